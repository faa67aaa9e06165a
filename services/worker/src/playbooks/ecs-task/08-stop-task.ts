// Step 8 (destructive, always behind approval): stop the task, with a reason naming the finding
// (ECS shows it in DescribeTasks' stoppedReason; "Up to 255 characters are allowed", StopTask, ECS
// API Reference). For a service's task the plan says what the service does next: it starts a new
// task from the same task definition to keep its desired count, so the image or definition must
// be fixed first. Also the fallback of isolate: when the task could not be isolated, this is the
// containment offered to a person.
import { StopTaskCommand } from "@aws-sdk/client-ecs";
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../engine/step.js";
import { taskOf } from "./ids.js";
import { STEP } from "./names.js";
import { planNote } from "./plan-note.js";
import { requirePreState } from "./pre-state.js";
import { describeTask, isStopping } from "./task.js";

/** ECS's cap on StopTask's reason. */
export const STOP_REASON_MAX = 255;

export const stopTaskOutput = z.object({ lastStatus: z.string(), desiredStatus: z.string() });

export function stopReason(ctx: Pick<StepContext, "tags">): string {
  return `Stopped by GuardDuty responder: GuardDuty finding ${ctx.tags.findingId}, remediation ${ctx.tags.remediationId}`.slice(0, STOP_REASON_MAX);
}

function serviceNote(serviceName: string, taskDefinitionArn: string): string {
  return (
    `This task belongs to service ${serviceName}: once it stops, the service starts a new task from the same task definition ` +
    `(${taskDefinitionArn}) to keep its desired count, running the same image and configuration, unless the service is fixed first ` +
    "(a new task definition, or the desired count lowered)."
  );
}

export const stopTask: Step = {
  name: STEP.stopTask,
  destructive: true,
  output: stopTaskOutput,

  async check(ctx): Promise<CheckResult> {
    const task = await describeTask(ctx, taskOf(ctx));
    if (!task) return { done: true, output: { lastStatus: "gone", desiredStatus: "STOPPED" }, note: "ECS no longer knows the task" };
    if (isStopping(task)) return { done: true, output: { lastStatus: task.lastStatus ?? "STOPPED", desiredStatus: task.desiredStatus ?? "STOPPED" } };
    return { done: false };
  },

  async act(ctx) {
    const pre = requirePreState(ctx);
    if (pre.serviceName !== null) planNote(ctx, serviceNote(pre.serviceName, pre.taskDefinitionArn));
    const { taskArn, cluster } = taskOf(ctx);
    const out = await ctx.change({ service: "ecs", family: "ecs-write", command: new StopTaskCommand({ cluster, task: taskArn, reason: stopReason(ctx) }) });
    return { lastStatus: out.task?.lastStatus ?? "STOPPING", desiredStatus: out.task?.desiredStatus ?? "STOPPED" };
  },

  async verify(ctx) {
    const task = await describeTask(ctx, taskOf(ctx));
    if (task && task.desiredStatus !== "STOPPED") throw new VerificationError(`task is ${task.lastStatus ?? "?"}, desired ${task.desiredStatus ?? "?"}: not stopping`);
  },
};
