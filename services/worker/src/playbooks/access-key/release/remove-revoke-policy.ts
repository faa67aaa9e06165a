// Release: the revocation policy this remediation added to the role is deleted, found by its
// name and deleted only after its document reads as ours. The role's other policies are never
// touched. Sessions the policy denied stay ended only in the sense that their holders had to
// assume the role again; the stolen ones work again if they have not expired, which the person
// approving the release decides on.
import { DeleteRolePolicyCommand } from "@aws-sdk/client-iam";
import { z } from "zod";
import { classifyAwsError, VerificationError, type CheckResult, type Step, type StepContext } from "../../kit/index.js";
import * as escalate from "../escalations.js";
import { IAM_WRITE } from "../families.js";
import { isNoSuchEntity, isUnmodifiableEntity } from "../iam-errors.js";
import { revokePoliciesOn } from "../iam-lists.js";
import { REVOKE_POLICY_PREFIX, revokePolicyName, roleLockName, STEP } from "../names.js";
import { notApplicable, notApplicableSchema, principalOf, type RoleSessions } from "../principal.js";
import { readRevokePolicy } from "../role-policy.js";

const removedSchema = z.object({
  applies: z.literal(true),
  roleName: z.string(),
  policyName: z.string(),
  removed: z.boolean(),
  /** This service's other revocation policies on the role (other remediations'), which stay. */
  othersRemaining: z.array(z.string()),
  note: z.string(),
});
type Removed = z.infer<typeof removedSchema>;

/**
 * The output, with what stays on the role: another remediation's revocation still denies the
 * sessions issued before its own cutoff, so removing this one does not by itself let them work.
 */
async function removed(ctx: StepContext, role: RoleSessions, policyName: string, removedNow: boolean): Promise<Removed> {
  const found = await revokePoliciesOn(ctx, role.roleName, REVOKE_POLICY_PREFIX);
  const others = found.names.filter((n) => n !== policyName);
  const what = removedNow ? `policy ${policyName} removed from role ${role.roleName}` : `policy ${policyName} is not on role ${role.roleName}`;
  const more = found.truncated ? " (the list stopped at its cap: there may be more)" : "";
  const note =
    others.length === 0
      ? `${what}; no other revocation policy of this service is on the role${more}`
      : `${what}; the role still has ${others.length} other revocation ${others.length === 1 ? "policy" : "policies"} of this service (${others.join(", ")})${more}: ` +
        "sessions issued before their cutoffs stay denied until those remediations are released";
  return { applies: true, roleName: role.roleName, policyName, removed: removedNow, othersRemaining: others, note };
}

function roleOf(ctx: StepContext): RoleSessions | { applies: false; reason: string } {
  const principal = principalOf(ctx);
  return principal.kind === "role-sessions" ? principal : notApplicable(principal, "no role policy was added");
}

export const removeRevokePolicy: Step = {
  name: STEP.removeRevokePolicy,
  destructive: false,
  output: z.union([removedSchema, notApplicableSchema]),

  async check(ctx): Promise<CheckResult> {
    const role = roleOf(ctx);
    if (!("roleName" in role)) return { done: true, output: role, note: `does not apply: ${role.reason}` };
    const policyName = revokePolicyName(ctx.remediation.id);
    const found = await readRevokePolicy(ctx, role.roleName, policyName);
    if (found.state === "absent") {
      const output = await removed(ctx, role, policyName, false);
      return { done: true, output, note: output.note };
    }
    if (found.state === "foreign") {
      throw escalate.policyNotOurs(role.roleName, policyName);
    }
    return { done: false };
  },

  async act(ctx) {
    const role = roleOf(ctx);
    if (!("roleName" in role)) return role;
    const policyName = revokePolicyName(ctx.remediation.id);
    try {
      // One writer of the role's inline policies at a time (another remediation's revocation or release).
      await ctx.withLock(roleLockName(ctx.remediation.accountId, role.roleName), () =>
        ctx.change({ service: "iam", family: IAM_WRITE, command: new DeleteRolePolicyCommand({ RoleName: role.roleName, PolicyName: policyName }) }),
      );
    } catch (err) {
      if (isUnmodifiableEntity(err)) throw escalate.unmodifiableRole(role.roleName, "DeleteRolePolicy", classifyAwsError(err).message);
      // Gone between the check and the delete (a person removed it): what release wanted.
      if (!isNoSuchEntity(err)) throw err;
    }
    return removed(ctx, role, policyName, true);
  },

  async verify(ctx) {
    const role = roleOf(ctx);
    if (!("roleName" in role)) return;
    const found = await readRevokePolicy(ctx, role.roleName, revokePolicyName(ctx.remediation.id));
    if (found.state !== "absent") throw new VerificationError(`role ${role.roleName} still has the revocation policy after DeleteRolePolicy`);
  },
};
