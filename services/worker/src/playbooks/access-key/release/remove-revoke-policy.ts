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
import { revokePolicyName, STEP } from "../names.js";
import { notApplicable, notApplicableSchema, principalOf, type RoleSessions } from "../principal.js";
import { readRevokePolicy } from "../role-policy.js";

const removedSchema = z.object({ applies: z.literal(true), roleName: z.string(), policyName: z.string(), removed: z.boolean() });

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
    if (found.state === "absent") return { done: true, output: { applies: true, roleName: role.roleName, policyName, removed: false } };
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
      await ctx.change({ service: "iam", family: IAM_WRITE, command: new DeleteRolePolicyCommand({ RoleName: role.roleName, PolicyName: policyName }) });
    } catch (err) {
      if (isUnmodifiableEntity(err)) throw escalate.unmodifiableRole(role.roleName, "DeleteRolePolicy", classifyAwsError(err).message);
      // Gone between the check and the delete (a person removed it): what release wanted.
      if (!isNoSuchEntity(err)) throw err;
    }
    return { applies: true, roleName: role.roleName, policyName, removed: true };
  },

  async verify(ctx) {
    const role = roleOf(ctx);
    if (!("roleName" in role)) return;
    const found = await readRevokePolicy(ctx, role.roleName, revokePolicyName(ctx.remediation.id));
    if (found.state !== "absent") throw new VerificationError(`role ${role.roleName} still has the revocation policy after DeleteRolePolicy`);
  },
};
