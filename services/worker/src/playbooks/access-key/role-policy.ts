// The revocation policy as IAM holds it on the role now: absent, ours (with its cutoff), or a
// policy of the same name that this playbook did not write, which nothing here overwrites or
// deletes.
import { GetRolePolicyCommand } from "@aws-sdk/client-iam";
import type { StepContext } from "../kit/index.js";
import { IAM_READ } from "./families.js";
import { isNoSuchEntity } from "./iam-errors.js";
import { decodePolicyDocument, revokeCutoffOf } from "./revoke-policy.js";

export type RevokePolicyState =
  | { state: "absent" }
  | { state: "ours"; cutoff: string; document: unknown }
  | { state: "foreign"; document: unknown };

export async function readRevokePolicy(ctx: StepContext, roleName: string, policyName: string): Promise<RevokePolicyState> {
  let text: string | undefined;
  try {
    const out = await ctx.read("iam", IAM_READ, new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
    text = out.PolicyDocument;
  } catch (err) {
    // NoSuchEntity answers both "no such policy" and "no such role": either way it is not there.
    if (isNoSuchEntity(err)) return { state: "absent" };
    throw err;
  }
  const document = text === undefined ? undefined : decodePolicyDocument(text);
  const cutoff = revokeCutoffOf(document);
  return cutoff === null ? { state: "foreign", document: document ?? null } : { state: "ours", cutoff, document };
}
