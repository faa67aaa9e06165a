// Step 5: mark the task, so that anyone looking at it in the console sees why it is cut off (or
// why it is not: isolation was refused or the host is shared) and which finding and remediation
// to look up. TagResource on the task ARN.
import { ListTagsForResourceCommand, TagResourceCommand } from "@aws-sdk/client-ecs";
import { z } from "zod";
import { VerificationError, notAvailable, type CheckResult, type Step, type StepContext } from "../../engine/step.js";
import { parseOutput } from "../kit/json.js";
import { describeError, isErrorCode } from "../kit/errors.js";
import { ECS_TASK_ARN, taskOf } from "./ids.js";
import { isolateOutput } from "./04-isolate.js";
import { STEP } from "./names.js";
import { STATE_ISOLATED, STATE_NOT_ISOLATED, TAG_FINDING_ID, TAG_REMEDIATION_ID, TAG_STATE } from "./tags.js";

export const tagOutput = z.object({ tags: z.record(z.string(), z.string()), taskGone: z.boolean() });

function wantedTags(ctx: StepContext): { key: string; value: string }[] {
  const isolated = ctx.outputs.get(STEP.isolate);
  const state = isolated !== undefined && parseOutput(isolateOutput, isolated, "isolate's output").mode === "isolated" ? STATE_ISOLATED : STATE_NOT_ISOLATED;
  return [
    { key: TAG_FINDING_ID, value: ctx.tags.findingId },
    { key: TAG_REMEDIATION_ID, value: ctx.tags.remediationId },
    { key: TAG_STATE, value: state },
  ];
}

/** The wanted tags the task does not carry yet; null when ECS no longer knows the task. */
async function missingTags(ctx: StepContext): Promise<{ key: string; value: string }[] | null> {
  let out;
  try {
    out = await ctx.read("ecs", "ecs-read", new ListTagsForResourceCommand({ resourceArn: taskOf(ctx).taskArn }));
  } catch (err) {
    if (isErrorCode(err, "InvalidParameterException", "ClusterNotFoundException")) return null;
    throw err;
  }
  const have = new Map((out.tags ?? []).map((t) => [t.key, t.value]));
  return wantedTags(ctx).filter((t) => have.get(t.key) !== t.value);
}

/** task/<id> with no cluster: the ARN format from before September 2018's opt-in. */
function isOldFormat(taskArn: string): boolean {
  return ECS_TASK_ARN.regex.exec(taskArn)?.groups?.["clusterName"] === undefined;
}

function asRecord(tags: readonly { key: string; value: string }[]): Record<string, string> {
  return Object.fromEntries(tags.map((t) => [t.key, t.value]));
}

export const tag: Step = {
  name: STEP.tag,
  destructive: false,
  output: tagOutput,

  async check(ctx): Promise<CheckResult> {
    const missing = await missingTags(ctx);
    if (missing === null && isOldFormat(taskOf(ctx).taskArn)) {
      // ECS answers tag calls on an old-format ARN with InvalidParameterException: not a gone task.
      return { done: true, output: { tags: {}, taskGone: false }, note: `task ${taskOf(ctx).taskArn} has an old-format ARN, which ECS does not tag: left untagged` };
    }
    if (missing === null) return { done: true, output: { tags: {}, taskGone: true }, note: "ECS no longer knows the task" };
    return missing.length === 0 ? { done: true, output: { tags: asRecord(wantedTags(ctx)), taskGone: false } } : { done: false };
  },

  async act(ctx) {
    const wanted = wantedTags(ctx);
    const { taskArn } = taskOf(ctx);
    try {
      await ctx.change({ service: "ecs", family: "ecs-write", command: new TagResourceCommand({ resourceArn: taskArn, tags: wanted }) });
    } catch (err) {
      // ECS tags only resources with the new ARN format ("Tagging your Amazon ECS resources", ECS
      // Developer Guide): an old-format task refuses the tags. The marks are a courtesy to people
      // looking at the console, not containment: recorded unavailable, the playbook carries on.
      if (!(isOldFormat(taskArn) && isErrorCode(err, "InvalidParameterException"))) throw err;
      return notAvailable(`ECS refused tagging task ${taskArn}, whose ARN has the old format (ECS tags only new-format ARNs): ${describeError(err)}`, {
        tags: {},
        taskGone: false,
      });
    }
    return { tags: asRecord(wanted), taskGone: false };
  },

  async verify(ctx) {
    const missing = await missingTags(ctx);
    if (missing !== null && missing.length > 0) throw new VerificationError(`tags missing: ${missing.map((t) => t.key).join(", ")}`);
  },
};
