import type { EcsRemediations } from "./ecs-plans.js";
import { plannedOperations } from "./ecs-plans.js";
import type { EcsView } from "./ecs-report.js";
import type { SeededEcs } from "./ecs-seed.js";

/**
 * What is not as issue 10 promises for the demo's ECS findings, in words (empty when all is well).
 * A playbook this worker does not have yet is not a problem: its remediations must then stay
 * queued, and the demo says so.
 */
export function ecsProblems(found: EcsRemediations, view: EcsView, ecs: SeededEcs, consumed: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const tasks = [found.serviceTask, found.bridgeTask, found.reportsTask];
  if (tasks.some((r) => r === null)) problems.push("An ECS finding started no ecs-task remediation.");
  if (!consumed.has("ecs-task")) {
    if (tasks.some((r) => r && r.status !== "queued")) problems.push("An ECS task remediation moved although no worker has the ecs-task playbook.");
    return problems;
  }

  // The service's Fargate task: isolated at once (high severity, auto), off every group it had,
  // and still running: stopping it waits for a person.
  const service = view.tasks.get(ecs.serviceTask.taskArn);
  if (!found.serviceTask?.containedAt) problems.push(`The Fargate service task was not contained (remediation ${found.serviceTask?.status ?? "missing"}).`);
  if (service?.eniGroups?.some((g) => ecs.serviceTask.eni?.groups.includes(g))) problems.push("The Fargate service task's ENI is still on one of its own groups.");
  if (service?.lastStatus !== "RUNNING") problems.push(`The Fargate service task is ${service?.lastStatus ?? "gone"}; stopping it must wait for an approval.`);

  // The bridge task shares its host's network: the host's isolation waits for a person.
  if (found.host?.status !== "awaiting_approval") problems.push(`The bridge task's host should wait for an approval; its Instance remediation is ${found.host?.status ?? "missing"}.`);
  if (found.host && found.host.parentId !== found.bridgeTask?.id) problems.push("The host's remediation is not linked to the bridge task's.");
  if (view.containerInstanceStatus !== "ACTIVE") problems.push(`The container instance is ${view.containerInstanceStatus} before anyone approved draining it.`);

  // The image: the task it ran in is contained, and its removal everywhere waits for a person.
  if (!found.reportsTask?.containedAt) problems.push(`The task running the malicious image was not contained (remediation ${found.reportsTask?.status ?? "missing"}).`);
  if (consumed.has("container-image")) {
    if (found.image?.status !== "awaiting_approval") problems.push(`The compromised image's remediation should wait for an approval; it is ${found.image?.status ?? "missing"}.`);
    else if (!plannedOperations(found.image).includes("ecr BatchDeleteImage")) problems.push("The compromised image's plan does not delete the image.");
  } else if (found.image && found.image.status !== "queued") {
    problems.push("The image remediation moved although no worker has the container-image playbook.");
  }
  if (!view.imagePresent) problems.push("The image was deleted from ECR before anyone approved it.");
  for (const [arn, status] of view.definitions) if (status !== "ACTIVE") problems.push(`Task definition ${arn} is ${status} before anyone approved it.`);
  return problems;
}
