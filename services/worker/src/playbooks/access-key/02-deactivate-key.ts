// Step 2 (containment, behind approval): an IAM user's long-term key is made Inactive, never
// deleted: the key stays as evidence and release can make it Active again (GuardDuty's guidance
// for compromised credentials). Does nothing for a role's sessions, or when the key is Inactive
// already.
import { UpdateAccessKeyCommand } from "@aws-sdk/client-iam";
import { z } from "zod";
import { SkipRemediation, VerificationError, type CheckResult, type Step, type StepContext } from "../kit/index.js";
import { IAM_WRITE } from "./families.js";
import { STEP } from "./names.js";
import { doesNotApply, notApplicable, notApplicableSchema, principalOf, type UserKey } from "./principal.js";
import { readKey } from "./user-key.js";

/**
 * Who made the key Inactive, which is what release goes by: it reactivates only a key this
 * remediation deactivated, never one a person or another remediation deactivated.
 * - "this remediation": act sent UpdateAccessKey Inactive, or marked (DEACTIVATING, an audit
 *   event written before the call) that it was about to and the worker died before recording the
 *   step: a restart finds the key Inactive and the mark, and counts it as its own.
 * - "already inactive at identify": Inactive before this remediation began.
 * - "already inactive when this step acted": Active at identify, Inactive when this step looked,
 *   and no mark: someone else (a person, another remediation) deactivated it while the approval
 *   waited, and release leaves it Inactive. The one reading left wrong: a person deactivating the
 *   key in the instant between the mark and the call of a worker that then dies; release would then
 *   reactivate it.
 */
export const DEACTIVATED_BY = ["this remediation", "already inactive at identify", "already inactive when this step acted"] as const;
export type DeactivatedBy = (typeof DEACTIVATED_BY)[number];

export const deactivatedSchema = z.object({
  applies: z.literal(true),
  accessKeyId: z.string(),
  userName: z.string(),
  status: z.literal("Inactive"),
  deactivatedBy: z.enum(DEACTIVATED_BY),
  /** What deactivating does and does not end, in words, for the record. */
  effect: z.string(),
});

/**
 * Temporary credentials STS issued are valid until they expire and cannot be revoked (IAM User
 * Guide, "Permissions for temporary security credentials"): a role session assumed with the key,
 * or a session token it obtained, outlives the key's deactivation.
 */
function deactivateEffect(key: UserKey): string {
  return (
    `requests signed with access key ${key.accessKeyId} of user ${key.userName} are refused. Deactivating it does not end role sessions ` +
    "already assumed with it, nor session tokens obtained with it (GetSessionToken, GetFederationToken): they stay valid until they expire. " +
    "A person must look for AssumeRole calls made with this key (CloudTrail) and revoke those roles' sessions"
  );
}
type Deactivated = z.infer<typeof deactivatedSchema>;

async function currentStatus(ctx: StepContext, key: UserKey): Promise<"Active" | "Inactive"> {
  const state = await readKey(ctx, key.userName, key.accessKeyId);
  // Deleted since identify (by a person, most likely): the key can no longer be used.
  if (state.found !== "key") throw new SkipRemediation("resource_gone", `access key ${key.accessKeyId} of user ${key.userName} no longer exists`);
  return state.status;
}

const done = (key: UserKey, deactivatedBy: DeactivatedBy): Deactivated => ({
  applies: true,
  accessKeyId: key.accessKeyId,
  userName: key.userName,
  status: "Inactive",
  deactivatedBy,
  effect: deactivateEffect(key),
});

/** The audit event act writes before UpdateAccessKey (read back by a restart's check). */
export const DEACTIVATING = "key.deactivating";

/** Who deactivated the key, for a check that finds it Inactive (see DEACTIVATED_BY). */
async function deactivatedByOnCheck(ctx: StepContext, key: UserKey): Promise<DeactivatedBy> {
  const recorded = deactivatedSchema.safeParse(ctx.outputs.get(STEP.deactivateKey));
  // This step's own record, from a run that finished: kept as it was.
  if (recorded.success && recorded.data.accessKeyId === key.accessKeyId) return recorded.data.deactivatedBy;
  if (key.statusBefore === "Inactive") return "already inactive at identify";
  return (await ctx.marked(DEACTIVATING)) ? "this remediation" : "already inactive when this step acted";
}

export const deactivateKey: Step = {
  name: STEP.deactivateKey,
  destructive: false,
  output: z.union([deactivatedSchema, notApplicableSchema]),

  async check(ctx): Promise<CheckResult> {
    const principal = principalOf(ctx);
    if (principal.kind !== "user-key") return doesNotApply(principal, "there is no long-term key to deactivate");
    if ((await currentStatus(ctx, principal)) === "Active") return { done: false };
    const by = await deactivatedByOnCheck(ctx, principal);
    return by === "this remediation" ? { done: true, output: done(principal, by) } : { done: true, output: done(principal, by), note: `access key ${principal.accessKeyId} is Inactive already (${by}): release will leave it Inactive` };
  },

  async act(ctx) {
    const key = principalOf(ctx);
    if (key.kind !== "user-key") return notApplicable(key, "there is no long-term key to deactivate");
    // Marked before the call (written only when acting): a worker that dies after the call and
    // before the step's record still knows, after a restart, that the Inactive key is its doing.
    await ctx.audit(DEACTIVATING, { accessKeyId: key.accessKeyId, userName: key.userName });
    await ctx.change({
      service: "iam",
      family: IAM_WRITE,
      command: new UpdateAccessKeyCommand({ UserName: key.userName, AccessKeyId: key.accessKeyId, Status: "Inactive" }),
    });
    return done(key, "this remediation");
  },

  // IAM is eventually consistent: a stale read right after the change fails verification, which
  // is retried, never taken for success.
  async verify(ctx) {
    const key = principalOf(ctx);
    if (key.kind !== "user-key") return;
    const state = await readKey(ctx, key.userName, key.accessKeyId);
    if (state.found !== "key" || state.status !== "Inactive") {
      throw new VerificationError(`access key ${key.accessKeyId} reads ${state.found === "key" ? state.status : state.found} after UpdateAccessKey Inactive`);
    }
  },
};
