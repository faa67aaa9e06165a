// The demo's ECS part around the approvals, so main.ts reads as the story it tells: before any
// approval, what each ECS finding started and what moto holds; after the approvals (the image's
// removal among them, when this worker has that playbook), what moto holds then.
import { DescribeNetworkInterfacesCommand } from "@aws-sdk/client-ec2";
import type { PrismaClient } from "@gdr/core/db/client";
import type { ApprovalOutcome } from "./approve.js";
import { ecsProblemsAfterImage, ecsProblemsBefore } from "./ecs-checks.js";
import { ecsRemediations, reportEcsPlans } from "./ecs-plans.js";
import { reportEcs, viewEcs, type EcsClients } from "./ecs-report.js";
import type { SeededEcs } from "./ecs-seed.js";

/**
 * Prints the ECS remediations with their waiting plans and moto's ECS state; returns the problems
 * and the image remediation's id (the one ECS plan the demo approves).
 */
export async function ecsBeforeApprovals(
  prisma: PrismaClient,
  clients: EcsClients,
  ecs: SeededEcs,
  consumed: ReadonlySet<string>,
): Promise<{ problems: string[]; imageRemediationId: string | null }> {
  const found = await ecsRemediations(prisma, ecs);
  reportEcsPlans(found, ecs, consumed);
  const view = await viewEcs(clients, ecs);
  await reportEcs(clients, ecs, view, "before any approval");
  return { problems: ecsProblemsBefore(found, view, ecs, consumed), imageRemediationId: found.image?.id ?? null };
}

/**
 * After the approvals: moto's ECS state again. When the image's removal was approved (it is the
 * one ECS plan the demo approves), every task of it must be stopped, its definitions deregistered
 * and the image deleted; otherwise nothing may have changed since before.
 */
export async function ecsAfterApprovals(clients: EcsClients, ecs: SeededEcs, approvals: readonly ApprovalOutcome[], imageRemediationId: string | null): Promise<string[]> {
  const image = approvals.find((a) => a.remediationId === imageRemediationId);
  const view = await viewEcs(clients, ecs);
  await reportEcs(clients, ecs, view, image ? "after the image's removal was approved" : "after the approvals");
  return [...(image?.ok ? ecsProblemsAfterImage(view) : []), ...(await hostProblems(clients, ecs))];
}

/** The host's isolation was left waiting: every interface of it must still be on its own groups. */
async function hostProblems(clients: EcsClients, ecs: SeededEcs): Promise<string[]> {
  const out = await clients.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.keys(ecs.host.eniGroups) }));
  return (out.NetworkInterfaces ?? [])
    .filter((eni) => {
      const now = (eni.Groups ?? []).map((g) => g.GroupId).sort();
      const seeded = [...(ecs.host.eniGroups[eni.NetworkInterfaceId ?? ""] ?? [])].sort();
      return JSON.stringify(now) !== JSON.stringify(seeded);
    })
    .map((eni) => `The container instance's interface ${eni.NetworkInterfaceId ?? "?"} changed groups although its isolation was not approved.`);
}
