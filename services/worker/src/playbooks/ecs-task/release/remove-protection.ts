// Release 2: turn off the scale-in protection this remediation turned on (never protection the
// workload set itself: protect-task recorded whether it was ours). A task that has stopped needs
// none.
import { z } from "zod";
import { VerificationError, notAvailable, type CheckResult, type Step, type StepContext } from "../../../engine/step.js";
import { classifyAwsError, describeError } from "../../kit/errors.js";
import { parseOutput } from "../../kit/json.js";
import { protectTaskOutput } from "../02-protect-task.js";
import { taskOf } from "../ids.js";
import { STEP } from "../names.js";
import { setProtection } from "../protection.js";
import { describeTask, isStopping, protectionOf } from "../task.js";

export const removeProtectionOutput = z.object({ protectionEnabled: z.boolean() });

function ours(ctx: StepContext): boolean {
  const value = ctx.outputs.get(STEP.protectTask);
  return value !== undefined && parseOutput(protectTaskOutput, value, "protect-task's output").protectionEnabled;
}

async function enabled(ctx: StepContext): Promise<boolean | null> {
  try {
    return (await protectionOf(ctx, taskOf(ctx))).enabled;
  } catch (err) {
    if (classifyAwsError(err).kind === "throttled") throw err;
    return null;
  }
}

export const removeProtection: Step = {
  name: STEP.removeProtection,
  destructive: false,
  output: removeProtectionOutput,

  async check(ctx): Promise<CheckResult> {
    if (!ours(ctx)) return { done: true, output: { protectionEnabled: false }, note: "this remediation set no scale-in protection" };
    const task = await describeTask(ctx, taskOf(ctx));
    if (!task || isStopping(task)) return { done: true, output: { protectionEnabled: false }, note: "the task has stopped: no protection to remove" };
    return (await enabled(ctx)) === false ? { done: true, output: { protectionEnabled: false } } : { done: false };
  },

  async act(ctx) {
    try {
      const failures = await setProtection(ctx, taskOf(ctx), false);
      if (failures.length > 0) return notAvailable(`ECS did not clear the protection: ${failures.join("; ")}`, { protectionEnabled: true });
    } catch (err) {
      if (classifyAwsError(err).kind === "throttled") throw err;
      return notAvailable(`UpdateTaskProtection failed (${describeError(err)}): the protection lapses by itself within 48 hours`, { protectionEnabled: true });
    }
    return { protectionEnabled: false };
  },

  async verify(ctx) {
    if ((await enabled(ctx)) === true) throw new VerificationError("the task is still protected from scale-in");
  },
};
