// The credentials GuardDuty names (resource.accessKeyDetails of the stored finding), each value
// checked again with core's identifier patterns before any of it reaches an IAM call. Core's
// parser validated them at intake; the row in Postgres is read again here, so is checked again.
import { ACCESS_KEY_ID, IAM_NAME, IAM_USER_TYPE, PRINCIPAL_ID } from "@gdr/core/findings/patterns";
import { expectId, type IdentifierPattern, type Json, type StepContext } from "../kit/index.js";

export interface AccessKeyDetails {
  accessKeyId: string | null;
  principalId: string | null;
  userName: string | null;
  userType: string | null;
}

function field(value: Json | undefined, pattern: IdentifierPattern, what: string): string | null {
  if (value === undefined || value === null) return null;
  return expectId(pattern, value, what);
}

function objectAt(value: Json | undefined): { [key: string]: Json } | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? value : null;
}

export function accessKeyDetailsOf(ctx: Pick<StepContext, "finding">): AccessKeyDetails {
  const details = objectAt(objectAt(ctx.finding["resource"])?.["accessKeyDetails"]);
  const base = "the finding's resource.accessKeyDetails";
  return {
    accessKeyId: field(details?.["accessKeyId"], ACCESS_KEY_ID, `${base}.accessKeyId`),
    principalId: field(details?.["principalId"], PRINCIPAL_ID, `${base}.principalId`),
    userName: field(details?.["userName"], IAM_NAME, `${base}.userName`),
    userType: field(details?.["userType"], IAM_USER_TYPE, `${base}.userType`),
  };
}

/** A long-term IAM user key; ASIA… keys are temporary (STS) credentials. */
export function isLongTermKey(accessKeyId: string): boolean {
  return accessKeyId.startsWith("AKIA");
}
