// Step 9 (destructive, always behind approval; bridge or host networking only): set the task's
// container instance to DRAINING, so that ECS places no new task on the host and moves its
// service tasks elsewhere ("Amazon ECS container instance draining", ECS Developer Guide: service
// tasks on a draining instance are replaced on other instances; standalone tasks are not stopped).
// The host is shared, so this reaches beyond the task: its own approval. An awsvpc task's host
// network is not the task's: the step does not apply.
import { DescribeContainerInstancesCommand, UpdateContainerInstancesStateCommand } from "@aws-sdk/client-ecs";
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../engine/step.js";
import { CONTAINER_INSTANCE_ARN, expectId } from "./ids.js";
import { STEP } from "./names.js";
import { planNote } from "./plan-note.js";
import { requirePreState, sharesHostNetwork } from "./pre-state.js";

export const drainHostOutput = z.object({ containerInstanceArn: z.string().nullable(), status: z.string() });

/** What draining does, with what the instance runs now (the approver drains every task of it, not only this one). */
function drainNote(arn: string, host: string | null, runningTasks: number | null): string {
  const runs = runningTasks === null ? "" : ` ECS counts ${runningTasks} task(s) running on it now.`;
  return (
    `Draining the container instance ${arn}${host === null ? "" : ` (EC2 instance ${host})`}: ECS places no new task on it and ` +
    "replaces the service tasks running on it (every service's, not only this task's) on other instances, where capacity allows; " +
    `standalone tasks on it keep running until stopped.${runs} Release does not set it back to ACTIVE.`
  );
}

async function describeInstance(ctx: StepContext, cluster: string, arn: string): Promise<{ status: string; runningTasks: number | null } | null> {
  const out = await ctx.read("ecs", "ecs-read", new DescribeContainerInstancesCommand({ cluster, containerInstances: [arn] }));
  const found = out.containerInstances?.find((c) => c.containerInstanceArn === arn);
  return found?.status === undefined ? null : { status: found.status, runningTasks: found.runningTasksCount ?? null };
}

async function statusOf(ctx: StepContext, cluster: string, arn: string): Promise<string | null> {
  return (await describeInstance(ctx, cluster, arn))?.status ?? null;
}

function target(ctx: StepContext): { cluster: string; arn: string } | { none: string } {
  const pre = requirePreState(ctx);
  if (!sharesHostNetwork(pre)) return { none: `does not apply: the task has its own network interface (${pre.networkMode} mode); its host is not shared with it` };
  if (pre.containerInstanceArn === null) return { none: "does not apply: ECS names no container instance for the task" };
  return { cluster: pre.cluster, arn: expectId(CONTAINER_INSTANCE_ARN, pre.containerInstanceArn, "the recorded container instance") };
}

export const drainHost: Step = {
  name: STEP.drainHost,
  destructive: true,
  output: drainHostOutput,

  async check(ctx): Promise<CheckResult> {
    const where = target(ctx);
    if ("none" in where) return { done: true, output: { containerInstanceArn: null, status: "not-applicable" }, note: where.none };
    const status = await statusOf(ctx, where.cluster, where.arn);
    if (status === null) return { done: true, output: { containerInstanceArn: where.arn, status: "gone" }, note: "the container instance is deregistered" };
    return status === "DRAINING" ? { done: true, output: { containerInstanceArn: where.arn, status } } : { done: false };
  },

  async act(ctx) {
    const where = target(ctx);
    if ("none" in where) return { containerInstanceArn: null, status: "not-applicable" };
    if (ctx.mode !== "act") planNote(ctx, drainNote(where.arn, requirePreState(ctx).hostInstanceId, (await describeInstance(ctx, where.cluster, where.arn))?.runningTasks ?? null));
    const out = await ctx.change({
      service: "ecs",
      family: "ecs-write",
      command: new UpdateContainerInstancesStateCommand({ cluster: where.cluster, containerInstances: [where.arn], status: "DRAINING" }),
    });
    const failure = out.failures?.[0];
    if (failure) throw new VerificationError(`ECS did not drain ${where.arn}: ${failure.reason ?? "failure"}`);
    return { containerInstanceArn: where.arn, status: out.containerInstances?.[0]?.status ?? "DRAINING" };
  },

  async verify(ctx) {
    const where = target(ctx);
    if ("none" in where) return;
    const status = await statusOf(ctx, where.cluster, where.arn);
    if (status !== null && status !== "DRAINING") throw new VerificationError(`container instance is ${status}, not DRAINING`);
  },
};
