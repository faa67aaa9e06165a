import type { EcsRemediations } from "./ecs-plans.js";
import { plannedOperations } from "./ecs-plans.js";
import type { EcsView } from "./ecs-report.js";
import type { SeededEcs } from "./ecs-seed.js";

/**
 * Before any approval: what is not as issue 10 promises for the demo's ECS findings, in words
 * (empty when all is well). A playbook this worker does not have yet is not a problem: its
 * remediations must then stay queued, and the demo says so.
 */
export function ecsProblemsBefore(found: EcsRemediations, view: EcsView, ecs: SeededEcs, consumed: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const tasks = [found.serviceTask, found.bridgeTask, found.reportsTask];
  if (tasks.some((r) => r === null)) problems.push("An ECS finding started no ecs-task remediation.");
  if (consumed.has("ecs-task")) problems.push(...taskProblems(found, view, ecs));
  else if (tasks.some((r) => r && r.status !== "queued")) problems.push("An ECS task remediation moved although no worker has the ecs-task playbook.");

  // The image: its removal everywhere waits for a person, and nothing of it changed before.
  if (consumed.has("container-image")) {
    if (found.image?.status !== "awaiting_approval") problems.push(`The compromised image's remediation should wait for an approval; it is ${found.image?.status ?? "missing"}.`);
    else if (!plannedOperations(found.image).includes("ecr BatchDeleteImage")) problems.push("The compromised image's plan does not delete the image.");
  } else if (found.image && found.image.status !== "queued") {
    problems.push("The image remediation moved although no worker has the container-image playbook.");
  }
  if (!view.imagePresent) problems.push("The image was deleted from ECR before anyone approved it.");
  for (const [arn, status] of view.definitions) if (status !== "ACTIVE") problems.push(`Task definition ${arn} is ${status} before anyone approved it.`);
  for (const [arn, task] of view.tasks) if (task.lastStatus !== "RUNNING") problems.push(`Task ${arn} is ${task.lastStatus} before anyone approved stopping it.`);
  return problems;
}

function taskProblems(found: EcsRemediations, view: EcsView, ecs: SeededEcs): string[] {
  const problems: string[] = [];
  // The Fargate tasks: isolated at once (high severity, auto), off every group they had.
  for (const [task, r] of [[ecs.serviceTask, found.serviceTask], [ecs.reportsTask, found.reportsTask]] as const) {
    if (!r?.containedAt) problems.push(`The ${task.label} was not contained (remediation ${r?.status ?? "missing"}).`);
    if (view.tasks.get(task.taskArn)?.eniGroups?.some((g) => task.eni?.groups.includes(g))) problems.push(`The ${task.label}'s ENI is still on one of its own groups.`);
  }
  // Every task's stop waits for a person (the bridge task's is also its containment's fallback).
  for (const [task, r] of [[ecs.serviceTask, found.serviceTask], [ecs.reportsTask, found.reportsTask], [ecs.bridgeTask, found.bridgeTask]] as const) {
    if (r?.status !== "awaiting_approval") problems.push(`The ${task.label}'s remediation should wait for an approval of its stop; it is ${r?.status ?? "missing"}.`);
  }
  // The bridge task shares its host's network: the host's isolation waits for a person.
  if (found.host?.status !== "awaiting_approval") problems.push(`The bridge task's host should wait for an approval; its Instance remediation is ${found.host?.status ?? "missing"}.`);
  if (found.host && found.host.parentId !== found.bridgeTask?.id) problems.push("The host's remediation is not linked to the bridge task's.");
  if (view.containerInstanceStatus !== "ACTIVE") problems.push(`The container instance is ${view.containerInstanceStatus} before anyone approved draining it.`);
  return problems;
}

/** After the image's removal was approved and ran: every task of it stopped, its definitions deregistered, the image gone. */
export function ecsProblemsAfterImage(view: EcsView): string[] {
  const problems: string[] = [];
  if (view.imagePresent) problems.push("The image is still in ECR after its deletion was approved and ran.");
  for (const [arn, status] of view.definitions) if (status !== "INACTIVE") problems.push(`Task definition ${arn} is ${status} after its deregistration was approved and ran.`);
  for (const [arn, task] of view.tasks) if (task.lastStatus !== "STOPPED") problems.push(`Task ${arn} is ${task.lastStatus} after stopping it was approved and ran.`);
  return problems;
}
