// Step 3 (containment, behind approval): every session of the role issued before now is denied
// every action, by an inline deny-all policy conditioned on aws:TokenIssueTime (what IAM's
// "Revoke active sessions" does). Sessions issued later, when the role's users assume it again,
// work; the stolen ones do not. It affects every instance, task or person using the role, which
// the plan says (identify's holdFor and this step's output). The policy is named after the
// remediation, so release removes exactly it. Does nothing for a user's key, or when in place.
import { PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { z } from "zod";
import { classifyAwsError, SkipRemediation, VerificationError, type CheckResult, type Step, type StepContext } from "../kit/index.js";
import * as escalate from "./escalations.js";
import { IAM_WRITE } from "./families.js";
import { isLimitExceeded, isNoSuchEntity, isUnmodifiableEntity } from "./iam-errors.js";
import { revokePolicyName, roleLockName, STEP } from "./names.js";
import { doesNotApply, notApplicable, notApplicableSchema, principalOf, type RoleSessions } from "./principal.js";
import { cutoffFor, revokeDocumentText } from "./revoke-policy.js";
import { readRevokePolicy } from "./role-policy.js";

export const revokedSchema = z.object({
  applies: z.literal(true),
  roleName: z.string(),
  policyName: z.string(),
  /** aws:TokenIssueTime's bound: sessions issued before it are denied (ISO 8601, to the second). */
  cutoff: z.string(),
  /** The document as sent, for verify and release to compare with what IAM holds. */
  document: z.string(),
  effect: z.string(),
});
export type Revoked = z.infer<typeof revokedSchema>;

export const revokeOutputSchema = z.union([revokedSchema, notApplicableSchema]);

function revoked(role: RoleSessions, policyName: string, cutoff: string): Revoked {
  return { applies: true, roleName: role.roleName, policyName, cutoff, document: revokeDocumentText(cutoff), effect: role.effect };
}

async function inPlace(ctx: StepContext, role: RoleSessions, policyName: string): Promise<Revoked | null> {
  const found = await readRevokePolicy(ctx, role.roleName, policyName);
  if (found.state === "absent") return null;
  if (found.state === "foreign") {
    throw escalate.policyNameTaken(role.roleName, policyName);
  }
  return revoked(role, policyName, found.cutoff);
}

export const revokeSessions: Step = {
  name: STEP.revokeSessions,
  destructive: false,
  output: revokeOutputSchema,

  // A policy of ours already there (a re-run after a crash past PutRolePolicy) keeps its cutoff:
  // writing it again would move the cutoff and spare sessions issued in between.
  async check(ctx): Promise<CheckResult> {
    const principal = principalOf(ctx);
    if (principal.kind !== "role-sessions") return doesNotApply(principal, "there are no role sessions to revoke");
    const found = await inPlace(ctx, principal, revokePolicyName(ctx.remediation.id));
    return found ? { done: true, output: found } : { done: false };
  },

  async act(ctx) {
    const role = principalOf(ctx);
    if (role.kind !== "role-sessions") return notApplicable(role, "there are no role sessions to revoke");
    const policyName = revokePolicyName(ctx.remediation.id);
    // Now, when act runs; a placeholder in the plan, which cannot know it.
    const cutoff = cutoffFor(ctx);
    try {
      // One writer of the role's inline policies at a time (another remediation's revocation or release).
      await ctx.withLock(roleLockName(ctx.remediation.accountId, role.roleName), () =>
        ctx.change({
          service: "iam",
          family: IAM_WRITE,
          command: new PutRolePolicyCommand({ RoleName: role.roleName, PolicyName: policyName, PolicyDocument: revokeDocumentText(cutoff) }),
        }),
      );
    } catch (err) {
      if (isNoSuchEntity(err)) throw new SkipRemediation("resource_gone", `role ${role.roleName} no longer exists`);
      if (isUnmodifiableEntity(err)) throw escalate.unmodifiableRole(role.roleName, "PutRolePolicy", classifyAwsError(err).message);
      if (isLimitExceeded(err)) throw escalate.rolePoliciesFull(role.roleName, classifyAwsError(err).message);
      throw err;
    }
    return revoked(role, policyName, cutoff);
  },

  async verify(ctx, output) {
    const written = revokedSchema.safeParse(output);
    if (!written.success) return;
    const found = await readRevokePolicy(ctx, written.data.roleName, written.data.policyName);
    if (found.state !== "ours" || found.cutoff !== written.data.cutoff) {
      throw new VerificationError(`role ${written.data.roleName}'s policy ${written.data.policyName} does not read back as written (${found.state})`);
    }
  },
};
