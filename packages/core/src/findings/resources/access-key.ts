import type { FindingResourceDetail } from "../finding-schema.js";
import type { IdentifierChecker } from "../identifiers.js";
import { ACCESS_KEY_ID, IAM_NAME, IAM_USER_TYPE, PRINCIPAL_ID } from "../patterns.js";
import type { AccessKeyResource } from "../types.js";
import { opt, type Mapped } from "./shared.js";

/**
 * resourceType "AccessKey": resource.accessKeyDetails, the IAM principal whose credentials were
 * used (e.g. an ASIA… session key of an instance role for InstanceCredentialExfiltration). Needs
 * something to act on: the key id, the user type and name, or the principal id.
 */
export function mapAccessKey(
  resource: FindingResourceDetail,
  ids: IdentifierChecker,
  path: string,
): Mapped<AccessKeyResource> {
  const details = resource.accessKeyDetails;
  const base = `${path}.accessKeyDetails`;
  const accessKeyId = ids.optional(details?.accessKeyId, ACCESS_KEY_ID, `${base}.accessKeyId`);
  const userName = ids.optional(details?.userName, IAM_NAME, `${base}.userName`);
  const userType = ids.optional(details?.userType, IAM_USER_TYPE, `${base}.userType`);
  const principalId = ids.optional(details?.principalId, PRINCIPAL_ID, `${base}.principalId`);
  const named = userName !== undefined && userType !== undefined;
  if (accessKeyId === undefined && !named && principalId === undefined) {
    return { ok: false, missing: `${base}.accessKeyId` };
  }
  return {
    ok: true,
    resource: {
      type: "AccessKey",
      ...opt("accessKeyId", accessKeyId),
      ...opt("userName", userName),
      ...opt("userType", userType),
      ...opt("principalId", principalId),
    },
  };
}
