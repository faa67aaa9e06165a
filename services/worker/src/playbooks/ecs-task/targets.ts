// The task's registrations in its service's target groups. ECS registers a service task itself:
// for awsvpc the target is the task ENI's IP and the container port (ip target groups), for
// bridge/host the host instance and the host port (instance target groups). Reading what is
// registered, and one call per target group to change it.
import type { LoadBalancer, Task, TaskDefinition } from "@aws-sdk/client-ecs";
import type { TargetRegistration } from "../kit/targets.js";

/** One registration of the task in a target group (kit/targets.ts reads and groups them). */
export type TaskTarget = TargetRegistration;
export { byTargetGroup, registrationState, type RegistrationState } from "../kit/targets.js";

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
