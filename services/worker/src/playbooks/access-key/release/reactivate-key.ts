// Release: the user's key goes back to Active, only if this remediation deactivated it
// (deactivate-key's deactivatedBy): a key a person or another remediation deactivated, before or
// during this remediation, stays Inactive and the output says why. Runs after a person approves
// the release.
import { UpdateAccessKeyCommand } from "@aws-sdk/client-iam";
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../kit/index.js";
import { deactivatedSchema } from "../02-deactivate-key.js";
import { IAM_WRITE } from "../families.js";
import { STEP } from "../names.js";
import { doesNotApply, notApplicable, notApplicableSchema, principalOf } from "../principal.js";
import { readKey } from "../user-key.js";

const reactivatedSchema = z.object({ applies: z.literal(true), accessKeyId: z.string(), userName: z.string(), status: z.literal("Active") });
const leftSchema = z.object({ applies: z.literal(true), accessKeyId: z.string(), left: z.string() });

/**
 * Why the key is left as it is, or null when this remediation deactivated it: only a key this
 * remediation made Inactive goes back to Active (02-deactivate-key.ts, DEACTIVATED_BY).
 */
function notOurs(ctx: StepContext, accessKeyId: string): string | null {
  const recorded = deactivatedSchema.safeParse(ctx.outputs.get(STEP.deactivateKey));
  if (!recorded.success || recorded.data.accessKeyId !== accessKeyId) {
    return "left Inactive: deactivate-key recorded no deactivation by this remediation";
  }
  switch (recorded.data.deactivatedBy) {
    case "this remediation":
      return null;
    case "already inactive at identify":
      return "left Inactive: the key was Inactive before this remediation began";
    case "already inactive when this step acted":
      return (
        "left Inactive: the key was made Inactive by someone else (a person or another remediation) after identify, or by this " +
        "remediation's own call just before a restart, which cannot be told apart; a person reactivates it if that is safe"
      );
  }
}

export const reactivateKey: Step = {
  name: STEP.reactivateKey,
  destructive: false,
  output: z.union([reactivatedSchema, leftSchema, notApplicableSchema]),

  async check(ctx): Promise<CheckResult> {
    const key = principalOf(ctx);
    if (key.kind !== "user-key") return doesNotApply(key, "there is no key to reactivate");
    const left = notOurs(ctx, key.accessKeyId);
    if (left !== null) return { done: true, output: { applies: true, accessKeyId: key.accessKeyId, left }, note: left };
    const state = await readKey(ctx, key.userName, key.accessKeyId);
    if (state.found !== "key") return { done: true, output: { applies: true, accessKeyId: key.accessKeyId, left: "deleted since containment: nothing to reactivate" } };
    if (state.status === "Active") return { done: true, output: { applies: true, accessKeyId: key.accessKeyId, userName: key.userName, status: "Active" } };
    return { done: false };
  },

  async act(ctx) {
    const key = principalOf(ctx);
    if (key.kind !== "user-key") return notApplicable(key, "there is no key to reactivate");
    // check said so already; act is also what a plan runs, so it holds to the same rule.
    const left = notOurs(ctx, key.accessKeyId);
    if (left !== null) return { applies: true, accessKeyId: key.accessKeyId, left };
    await ctx.change({
      service: "iam",
      family: IAM_WRITE,
      command: new UpdateAccessKeyCommand({ UserName: key.userName, AccessKeyId: key.accessKeyId, Status: "Active" }),
    });
    return { applies: true, accessKeyId: key.accessKeyId, userName: key.userName, status: "Active" };
  },

  async verify(ctx, output) {
    const key = principalOf(ctx);
    if (key.kind !== "user-key" || !reactivatedSchema.safeParse(output).success) return;
    const state = await readKey(ctx, key.userName, key.accessKeyId);
    if (state.found !== "key" || state.status !== "Active") {
      throw new VerificationError(`access key ${key.accessKeyId} reads ${state.found === "key" ? state.status : state.found} after UpdateAccessKey Active`);
    }
  },
};
