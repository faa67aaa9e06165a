// Release: the user's key goes back to Active, only if identify found it Active before
// containment (a key a person had deactivated already stays Inactive). Runs after a person
// approves the release.
import { UpdateAccessKeyCommand } from "@aws-sdk/client-iam";
import { z } from "zod";
import { VerificationError, type CheckResult, type Step } from "../../kit/index.js";
import { IAM_WRITE } from "../families.js";
import { STEP } from "../names.js";
import { doesNotApply, notApplicable, notApplicableSchema, principalOf } from "../principal.js";
import { readKey } from "../user-key.js";

const reactivatedSchema = z.object({ applies: z.literal(true), accessKeyId: z.string(), userName: z.string(), status: z.literal("Active") });
const leftSchema = z.object({ applies: z.literal(true), accessKeyId: z.string(), left: z.string() });

export const reactivateKey: Step = {
  name: STEP.reactivateKey,
  destructive: false,
  output: z.union([reactivatedSchema, leftSchema, notApplicableSchema]),

  async check(ctx): Promise<CheckResult> {
    const key = principalOf(ctx);
    if (key.kind !== "user-key") return doesNotApply(key, "there is no key to reactivate");
    if (key.statusBefore !== "Active") return { done: true, output: { applies: true, accessKeyId: key.accessKeyId, left: "Inactive before containment: left Inactive" } };
    const state = await readKey(ctx, key.userName, key.accessKeyId);
    if (state.found !== "key") return { done: true, output: { applies: true, accessKeyId: key.accessKeyId, left: "deleted since containment: nothing to reactivate" } };
    if (state.status === "Active") return { done: true, output: { applies: true, accessKeyId: key.accessKeyId, userName: key.userName, status: "Active" } };
    return { done: false };
  },

  async act(ctx) {
    const key = principalOf(ctx);
    if (key.kind !== "user-key") return notApplicable(key, "there is no key to reactivate");
    await ctx.change({
      service: "iam",
      family: IAM_WRITE,
      command: new UpdateAccessKeyCommand({ UserName: key.userName, AccessKeyId: key.accessKeyId, Status: "Active" }),
    });
    return { applies: true, accessKeyId: key.accessKeyId, userName: key.userName, status: "Active" };
  },

  async verify(ctx) {
    const key = principalOf(ctx);
    if (key.kind !== "user-key") return;
    const state = await readKey(ctx, key.userName, key.accessKeyId);
    if (state.found !== "key" || state.status !== "Active") {
      throw new VerificationError(`access key ${key.accessKeyId} reads ${state.found === "key" ? state.status : state.found} after UpdateAccessKey Active`);
    }
  },
};
