// Release 3: register the task again in the target groups leave-load-balancers took it out of,
// with the recorded ports. Only while the task runs: a stopped task's IP may be another's by now.
import { RegisterTargetsCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../../engine/step.js";
import { isErrorCode } from "../../kit/errors.js";
import { taskOf } from "../ids.js";
import { STEP } from "../names.js";
import { requirePreState, targetSchema } from "../pre-state.js";
import { byTargetGroup, registrationState, type TaskTarget } from "../targets.js";
import { describeTask, isStopping } from "../task.js";

export const reregisterTargetsOutput = z.object({ targets: z.array(targetSchema) });

async function unregistered(ctx: StepContext): Promise<TaskTarget[]> {
  const missing: TaskTarget[] = [];
  for (const target of requirePreState(ctx).targets) {
    const state = await registrationState(ctx, target);
    if (state === "not-registered" || state === "draining") missing.push(target);
  }
  return missing;
}

async function running(ctx: StepContext): Promise<boolean> {
  const task = await describeTask(ctx, taskOf(ctx));
  return task !== null && !isStopping(task);
}

export const reregisterTargets: Step = {
  name: STEP.reregisterTargets,
  destructive: false,
  output: reregisterTargetsOutput,

  async check(ctx): Promise<CheckResult> {
    const pre = requirePreState(ctx);
    if (pre.targets.length === 0) return { done: true, output: { targets: [] }, note: "the task was in no target group" };
    if (!(await running(ctx))) return { done: true, output: { targets: [] }, note: "the task has stopped: its targets are not registered again" };
    return (await unregistered(ctx)).length === 0 ? { done: true, output: { targets: pre.targets } } : { done: false };
  },

  async act(ctx) {
    for (const [arn, list] of byTargetGroup(await unregistered(ctx))) {
      try {
        await ctx.change({
          service: "elbv2",
          family: "elbv2",
          command: new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: list.map((t) => ({ Id: t.targetId, Port: t.port })) }),
        });
      } catch (err) {
        if (!isErrorCode(err, "TargetGroupNotFoundException")) throw err;
      }
    }
    return { targets: requirePreState(ctx).targets };
  },

  async verify(ctx) {
    if (!(await running(ctx))) return;
    const missing = await unregistered(ctx);
    if (missing.length > 0) throw new VerificationError(`not registered again in ${missing.map((t) => t.targetGroupArn).join(", ")}`);
  },
};
