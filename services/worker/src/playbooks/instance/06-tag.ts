// Step 6: mark the instance, so that anyone looking at it in the console sees why it is cut off
// and which finding and remediation to look up.
import { CreateTagsCommand, type CreateTagsCommandInput } from "@aws-sdk/client-ec2";
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../engine/step.js";
import { instanceIdOf } from "./shared/ids.js";
import { requireLiveInstance, tagValue } from "./shared/instance.js";
import { STEP } from "./shared/names.js";
import { STATE_ISOLATED, TAG_FINDING_ID, TAG_REMEDIATION_ID, TAG_STATE } from "./shared/tags.js";

export function wantedTags(ctx: StepContext, state: string): { Key: string; Value: string }[] {
  return [
    { Key: TAG_FINDING_ID, Value: ctx.tags.findingId },
    { Key: TAG_REMEDIATION_ID, Value: ctx.tags.remediationId },
    { Key: TAG_STATE, Value: state },
  ];
}

/** The wanted tags the instance does not carry (with these values) yet. */
export async function missingTags(
  ctx: StepContext,
  instanceId: string,
  wanted: readonly { Key: string; Value: string }[],
): Promise<{ Key: string; Value: string }[]> {
  const instance = await requireLiveInstance(ctx, instanceId);
  return wanted.filter((t) => tagValue(instance, t.Key) !== t.Value);
}

/** The tags the instance carries after the step, by key. */
const tagsOutputSchema = z.object({ tags: z.record(z.string(), z.string()) });

function tagsOutput(tags: readonly { Key: string; Value: string }[]): { tags: Record<string, string> } {
  return { tags: Object.fromEntries(tags.map((t) => [t.Key, t.Value])) };
}

function tagInput(instanceId: string, tags: { Key: string; Value: string }[]): CreateTagsCommandInput {
  return { Resources: [instanceId], Tags: tags };
}

/** Tag steps share this: isolated here, released on release. */
export function tagStep(name: string, state: string): Step {
  return {
    name,
    destructive: false,
    output: tagsOutputSchema,

    async check(ctx): Promise<CheckResult> {
      const wanted = wantedTags(ctx, state);
      const missing = await missingTags(ctx, instanceIdOf(ctx), wanted);
      return missing.length === 0 ? { done: true, output: tagsOutput(wanted) } : { done: false };
    },

    async act(ctx) {
      const instanceId = instanceIdOf(ctx);
      const wanted = wantedTags(ctx, state);
      await ctx.change({ service: "ec2", family: "ec2-write", command: new CreateTagsCommand(tagInput(instanceId, wanted)) });
      return tagsOutput(wanted);
    },

    async verify(ctx) {
      const missing = await missingTags(ctx, instanceIdOf(ctx), wantedTags(ctx, state));
      if (missing.length > 0) throw new VerificationError(`tags missing: ${missing.map((t) => t.Key).join(", ")}`);
    },
  };
}

export const tag: Step = tagStep(STEP.tag, STATE_ISOLATED);
