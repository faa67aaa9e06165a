// The task's registrations in its service's target groups. ECS registers a service task itself:
// for awsvpc the target is the task ENI's IP and the container port (ip target groups), for
// bridge/host the host instance and the host port (instance target groups). Reading what is
// registered, and one call per target group to change it.
import { DescribeTargetHealthCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { LoadBalancer, Task, TaskDefinition } from "@aws-sdk/client-ecs";
import type { StepContext } from "../../engine/step.js";
import { errorName } from "../kit/errors.js";

/** One registration of the task in a target group. A type, not an interface: outputs hold it. */
export type TaskTarget = {
  targetGroupArn: string;
  targetId: string;
  port: number;
};

export type RegistrationState = "registered" | "draining" | "not-registered" | "group-gone";

/** The host port a container port is published on (bridge/host): the task's binding, else the definition's. */
function hostPort(task: Task, definition: TaskDefinition, lb: LoadBalancer): number | null {
  for (const container of task.containers ?? []) {
    if (lb.containerName !== undefined && container.name !== lb.containerName) continue;
    const binding = container.networkBindings?.find((b) => b.containerPort === lb.containerPort);
    if (binding?.hostPort) return binding.hostPort;
  }
  const mapping = definition.containerDefinitions
    ?.find((c) => c.name === lb.containerName)
    ?.portMappings?.find((p) => p.containerPort === lb.containerPort);
  if (definition.networkMode === "host") return lb.containerPort ?? null;
  // A dynamic host port (0 or none) the task's bindings did not name cannot be told apart from
  // the host's other tasks' registrations: left alone rather than guessed.
  return mapping?.hostPort ? mapping.hostPort : null;
}

/** Where ECS would have registered the task, for each load balancer of its service. */
export function expectedTargets(
  task: Task,
  definition: TaskDefinition,
  loadBalancers: readonly LoadBalancer[],
  where: { privateIp: string | null; hostInstanceId: string | null },
): TaskTarget[] {
  const targets: TaskTarget[] = [];
  for (const lb of loadBalancers) {
    if (lb.targetGroupArn === undefined || lb.containerPort === undefined) continue;
    if (definition.networkMode === "awsvpc") {
      if (where.privateIp) targets.push({ targetGroupArn: lb.targetGroupArn, targetId: where.privateIp, port: lb.containerPort });
    } else if (where.hostInstanceId) {
      const port = hostPort(task, definition, lb);
      if (port !== null) targets.push({ targetGroupArn: lb.targetGroupArn, targetId: where.hostInstanceId, port });
    }
  }
  return targets;
}

/**
 * Whether one registration is in place. Asked with the target and port, ELBv2 answers `unused`
 * with reason Target.NotRegistered for a target that is not registered.
 */
export async function registrationState(ctx: Pick<StepContext, "read">, target: TaskTarget): Promise<RegistrationState> {
  let out;
  try {
    out = await ctx.read(
      "elbv2",
      "elbv2",
      new DescribeTargetHealthCommand({ TargetGroupArn: target.targetGroupArn, Targets: [{ Id: target.targetId, Port: target.port }] }),
    );
  } catch (err) {
    if (errorName(err) === "TargetGroupNotFoundException") return "group-gone";
    throw err;
  }
  const description = (out.TargetHealthDescriptions ?? []).find(
    (d) => d.Target?.Id === target.targetId && (d.Target.Port === undefined || d.Target.Port === target.port),
  );
  if (!description) return "not-registered";
  const state = description.TargetHealth?.State;
  if (state === "draining") return "draining";
  if (state === "unused" && description.TargetHealth?.Reason === "Target.NotRegistered") return "not-registered";
  return "registered";
}

/** Registrations grouped by target group: one call per group. */
export function byTargetGroup(targets: readonly TaskTarget[]): Map<string, TaskTarget[]> {
  const groups = new Map<string, TaskTarget[]>();
  for (const target of targets) groups.set(target.targetGroupArn, [...(groups.get(target.targetGroupArn) ?? []), target]);
  return groups;
}
