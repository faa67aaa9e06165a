// Reading the task, its task definition, its service and its container instance: every id read
// back from an answer is checked with core's patterns before it reaches another call.
import {
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  GetTaskProtectionCommand,
  type LoadBalancer,
  type Task,
  type TaskDefinition,
} from "@aws-sdk/client-ecs";
import type { StepContext } from "../../engine/step.js";
import { isErrorCode } from "../kit/errors.js";
import { CONTAINER_INSTANCE_ARN, ECS_TASK_DEFINITION_ARN, INSTANCE_ID, TARGET_GROUP_ARN, expectId, type TaskRef } from "./ids.js";

type ReadContext = Pick<StepContext, "read">;

/** The task as ECS describes it (with its tags), or null when ECS does not know it (any more). */
export async function describeTask(ctx: ReadContext, task: TaskRef): Promise<Task | null> {
  let out;
  try {
    out = await ctx.read("ecs", "ecs-read", new DescribeTasksCommand({ cluster: task.cluster, tasks: [task.taskArn], include: ["TAGS"] }));
  } catch (err) {
    // The cluster is gone, and the task with it.
    if (isErrorCode(err, "ClusterNotFoundException")) return null;
    throw err;
  }
  // An unknown task comes back in failures (reason MISSING), not as an error.
  return out.tasks?.find((t) => t.taskArn === task.taskArn) ?? null;
}

/** Stopped, or on its way: ECS will not run it again (desiredStatus STOPPED is final). */
export function isStopping(task: Task): boolean {
  return task.desiredStatus === "STOPPED" || task.lastStatus === "STOPPED" || task.lastStatus === "DEPROVISIONING";
}

/** When and why a task stopped, in words, from what ECS recorded. */
export function stoppedMessage(task: Task): string {
  const when = task.stoppedAt ?? task.stoppingAt ?? task.executionStoppedAt;
  const parts = [`task ${task.taskArn ?? "?"} is ${task.lastStatus ?? "?"} (desired ${task.desiredStatus ?? "?"})`];
  if (when) parts.push(`since ${when.toISOString()}`);
  if (task.stopCode) parts.push(`stop code ${task.stopCode}`);
  if (task.stoppedReason) parts.push(`reason: ${task.stoppedReason.slice(0, 255)}`);
  return parts.join(", ");
}

/** The task ENI's id and private IPv4 address, from its ElasticNetworkInterface attachment (awsvpc). */
export function taskEni(task: Task): { id: string; privateIp: string | null } | null {
  const attachment = task.attachments?.find((a) => a.type === "ElasticNetworkInterface");
  const detail = (name: string): string | undefined => attachment?.details?.find((d) => d.name === name)?.value;
  const id = detail("networkInterfaceId");
  return id === undefined ? null : { id, privateIp: detail("privateIPv4Address") ?? null };
}

export async function describeTaskDefinition(ctx: ReadContext, arn: string | undefined): Promise<TaskDefinition> {
  const taskDefinition = expectId(ECS_TASK_DEFINITION_ARN, arn, "the task's task definition");
  const out = await ctx.read("ecs", "ecs-read", new DescribeTaskDefinitionCommand({ taskDefinition }));
  if (!out.taskDefinition) throw new Error(`ECS did not describe task definition ${taskDefinition}`);
  return out.taskDefinition;
}

/** The load balancers of the task's service (each with a validated target group ARN). */
export async function serviceLoadBalancers(ctx: ReadContext, cluster: string, serviceName: string): Promise<{ found: boolean; loadBalancers: LoadBalancer[] }> {
  const out = await ctx.read("ecs", "ecs-read", new DescribeServicesCommand({ cluster, services: [serviceName] }));
  const service = out.services?.find((s) => s.serviceName === serviceName);
  if (!service) return { found: false, loadBalancers: [] };
  const loadBalancers = (service.loadBalancers ?? []).filter((lb) => lb.targetGroupArn !== undefined);
  for (const lb of loadBalancers) expectId(TARGET_GROUP_ARN, lb.targetGroupArn, `a target group of service ${serviceName}`);
  return { found: true, loadBalancers };
}

// ECS Anywhere: "For external instances, this value is the Amazon Web Services Systems Manager
// managed instance ID" (ContainerInstance.ec2InstanceId, ECS API Reference): a server outside EC2.
const MANAGED_INSTANCE_ID = /^mi-[0-9a-f]{17}$/;

/**
 * The EC2 instance behind a container instance (EC2 launch type), or null when ECS names none or
 * names an external instance's managed instance id (EXTERNAL launch type: no EC2 instance to
 * isolate or snapshot). Anything else that is no instance id is refused.
 */
export async function hostOf(ctx: ReadContext, cluster: string, containerInstanceArn: string): Promise<{ containerInstanceArn: string; instanceId: string | null; status: string | null }> {
  const arn = expectId(CONTAINER_INSTANCE_ARN, containerInstanceArn, "the task's container instance");
  const out = await ctx.read("ecs", "ecs-read", new DescribeContainerInstancesCommand({ cluster, containerInstances: [arn] }));
  const found = out.containerInstances?.find((c) => c.containerInstanceArn === arn);
  const ec2 = found?.ec2InstanceId;
  return {
    containerInstanceArn: arn,
    instanceId: ec2 === undefined || MANAGED_INSTANCE_ID.test(ec2) ? null : expectId(INSTANCE_ID, ec2, `the EC2 instance of ${arn}`),
    status: found?.status ?? null,
  };
}

/** Scale-in protection as ECS reports it now. */
export async function protectionOf(ctx: ReadContext, task: TaskRef): Promise<{ enabled: boolean; expiresAt: string | null }> {
  const out = await ctx.read("ecs", "ecs-read", new GetTaskProtectionCommand({ cluster: task.cluster, tasks: [task.taskArn] }));
  const found = out.protectedTasks?.find((t) => t.taskArn === task.taskArn);
  return { enabled: found?.protectionEnabled ?? false, expiresAt: found?.expirationDate?.toISOString() ?? null };
}
