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

const deactivatedSchema = z.object({
  applies: z.literal(true),
  accessKeyId: z.string(),
  userName: z.string(),
  status: z.literal("Inactive"),
});

async function currentStatus(ctx: StepContext, key: UserKey): Promise<"Active" | "Inactive"> {
  const state = await readKey(ctx, key.userName, key.accessKeyId);
  // Deleted since identify (by a person, most likely): the key can no longer be used.
  if (state.found !== "key") throw new SkipRemediation("resource_gone", `access key ${key.accessKeyId} of user ${key.userName} no longer exists`);
  return state.status;
}

const done = (key: UserKey): z.infer<typeof deactivatedSchema> => ({ applies: true, accessKeyId: key.accessKeyId, userName: key.userName, status: "Inactive" });

export const deactivateKey: Step = {
  name: STEP.deactivateKey,
  destructive: false,
  output: z.union([deactivatedSchema, notApplicableSchema]),

  async check(ctx): Promise<CheckResult> {
    const principal = principalOf(ctx);
    if (principal.kind !== "user-key") return doesNotApply(principal, "there is no long-term key to deactivate");
    return (await currentStatus(ctx, principal)) === "Inactive" ? { done: true, output: done(principal) } : { done: false };
  },

  async act(ctx) {
    const key = principalOf(ctx);
    if (key.kind !== "user-key") return notApplicable(key, "there is no long-term key to deactivate");
    await ctx.change({
      service: "iam",
      family: IAM_WRITE,
      command: new UpdateAccessKeyCommand({ UserName: key.userName, AccessKeyId: key.accessKeyId, Status: "Inactive" }),
    });
    return done(key);
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
