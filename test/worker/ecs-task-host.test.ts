// The ECS task playbook on a task that shares its host's network (EC2 launch type, bridge mode),
// end to end from SQS against moto. Such a task has no interface of its own: isolating it means
// isolating its EC2 host, which runs other tasks too, so the playbook starts an Instance
// remediation of the host (its own row, linked to the task's as its parent, always in approval
// mode), and nothing changes on the host until a person approves it. The task's own remediation
// carries on: out of its service's instance target group, tagged, the host's volumes
// snapshotted, and stopping the task and draining the container instance each wait for approval.
//
// moto notes (../shared/MOTO.md): task scale-in protection is faked on the worker's ECS client
// (seed/ecs.ts taskProtectionFake); DRAINING leaves running tasks running in moto, so only the
// container instance's status is asserted.
import { approveRemediation } from "@gdr/core/approvals/decide";
import { DescribeInstancesCommand, DescribeSnapshotsCommand } from "@aws-sdk/client-ec2";
import type { ECSClient } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../support/index.js";
import {
  ecsClient,
  findingForTask,
  pinTaskLifecycle,
  seedCluster,
  seedContainerInstance,
  seedServiceTask,
  seedTaskNetwork,
  targetIds,
  taskProtectionFake,
  viewContainerInstance,
  viewTask,
  type EcsSeedClients,
} from "../support/seed/ecs.js";
import { createEngineWorld, findingIdOf, remediation, remediationForFinding, startLane, stepsOf, waitForStatus, type EngineWorld, type Lane, type RemediationRow } from "./engine-harness.js";

const SETTLED = ["awaiting_approval", "succeeded", "failed", "skipped", "escalated", "rejected"];

interface Plan {
  reason?: string;
  steps: { name: string; destructive: boolean; note?: string; calls: { service: string; operation: string; params: Record<string, unknown> }[] }[];
}

let world: EngineWorld;
let ecs: ECSClient;
let clients: EcsSeedClients;

beforeAll(async () => {
  world = await createEngineWorld();
  ecs = ecsClient(world.moto.endpoint);
  clients = { ...world.aws, ecs };
  await pinTaskLifecycle(world.moto.endpoint);
});

afterAll(async () => {
  ecs.destroy();
  await world.close();
});

async function approve(lane: Lane, row: RemediationRow, actor: string): Promise<void> {
  const decision = await approveRemediation(world.db.prisma, lane.queues, { remediationId: row.id, actor, reason: "looked at the plan", planHash: row.plan_hash ?? "" });
  expect(decision.ok, JSON.stringify(decision)).toBe(true);
}

async function children(parentId: string): Promise<{ id: string; playbook: string; resource_key: string; mode: string }[]> {
  const { rows } = await world.db.pool.query<{ id: string; playbook: string; resource_key: string; mode: string }>(
    "SELECT id::text AS id, playbook, resource_key, mode FROM remediations WHERE parent_id = $1::uuid",
    [parentId],
  );
  return rows;
}

async function hostView(instanceId: string): Promise<{ groups: string[]; tags: Record<string, string> }> {
  const out = await world.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const instance = out.Reservations?.[0]?.Instances?.[0];
  return {
    groups: (instance?.NetworkInterfaces ?? []).flatMap((n) => (n.Groups ?? []).map((g) => g.GroupId ?? "")),
    tags: Object.fromEntries((instance?.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])),
  };
}

/** Waits until the remediation settles on something other than the plan it was waiting with. */
async function nextSettled(id: string, previousHash: string): Promise<RemediationRow> {
  let found: RemediationRow | undefined;
  await waitUntil(
    async () => {
      const row = await waitForStatus(world.db, id, SETTLED);
      found = row;
      return !(row.status === "awaiting_approval" && row.plan_hash === previousHash);
    },
    { attempts: 300, what: `remediation ${id} to move on from its plan` },
  );
  if (!found) throw new Error("unreachable");
  return found;
}

describe("a bridge task on an EC2 container instance", () => {
  it("hands its host to an Instance remediation behind approval, and stops and drains only once approved", async () => {
    const protection = taskProtectionFake();
    const lane = await startLane(world, { awsMiddleware: (c) => { protection.install(c); } });
    const cluster = await seedCluster(clients);
    const network = await seedTaskNetwork(clients);
    const host = await seedContainerInstance(clients, cluster, network);
    const service = await seedServiceTask(clients, { cluster, network, image: "nginx:1.27", containerInstance: host });
    const task = service.task;
    expect(task).toMatchObject({ launchType: "EC2", eniId: null, containerInstanceArn: host.containerInstanceArn });
    const targetGroupArn = service.targetGroup?.targetGroupArn ?? "";
    expect(await targetIds(clients, targetGroupArn)).toEqual([`${host.instanceId}:8080`]);
    const hostBefore = await hostView(host.instanceId);

    const detail = findingForTask(task);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));
    expect(queued).toMatchObject({ playbook: "ecs-task", mode: "auto" });
    const waiting = await waitForStatus(world.db, queued.id, SETTLED);
    expect(waiting.status).toBe("awaiting_approval");
    const steps = await stepsOf(world.db, queued.id);
    const statuses = Object.fromEntries(steps.map((s) => [s.name, s.status]));
    expect(statuses).toEqual({
      identify: "succeeded",
      "protect-task": "succeeded",
      "leave-load-balancers": "succeeded",
      isolate: "unavailable",
      tag: "succeeded",
      "snapshot-host-volumes": "succeeded",
      verify: "verified",
      "stop-task": "awaiting_approval",
    });

    // The host: an Instance remediation of its own, the task's as its parent, in approval mode.
    const started = await children(queued.id);
    expect(started).toEqual([{ id: expect.any(String) as unknown, playbook: "instance", resource_key: host.instanceId, mode: "approval" }]);
    const hostRemediationId = started[0]?.id ?? "";
    expect(steps.find((s) => s.name === "isolate")?.output).toEqual({ mode: "host", hostInstanceId: host.instanceId, hostRemediationId, created: true });
    const hostWaiting = await waitForStatus(world.db, hostRemediationId, SETTLED);
    expect(hostWaiting.status).toBe("awaiting_approval");
    // Nothing changed on the host: its groups and tags are as seeded.
    expect(await hostView(host.instanceId)).toEqual(hostBefore);

    // The task's own remediation: out of the load balancer, tagged, the host's volume snapshotted.
    expect(await targetIds(clients, targetGroupArn)).toEqual([]);
    expect((await viewTask(clients, task)).tags["guardduty-responder:state"]).toBe("not-isolated");
    const snapshots = await world.aws.ec2.send(
      new DescribeSnapshotsCommand({ OwnerIds: ["self"], Filters: [{ Name: "tag:guardduty-responder:remediation-id", Values: [queued.id] }] }),
    );
    expect((snapshots.Snapshots ?? []).map((s) => s.VolumeId)).toEqual(host.volumeIds);
    expect(protection.updates).toEqual([{ tasks: [task.taskArn], protectionEnabled: true, expiresInMinutes: 2880 }]);

    // stop-task is offered as the containment left, saying why.
    const plan = waiting.plan as Plan;
    expect(plan.steps.map((s) => s.name)).toEqual(["stop-task"]);
    expect(plan.reason).toContain(`shares host ${host.instanceId}'s network`);
    expect(plan.reason).toContain(`remediation ${hostRemediationId} isolates the host once approved`);
    expect((await viewTask(clients, task)).lastStatus).toBe("RUNNING");

    await approve(lane, waiting, "alice");
    const drainWaiting = await nextSettled(queued.id, waiting.plan_hash ?? "");
    expect((await viewTask(clients, task)).desiredStatus).toBe("STOPPED");
    // Draining waits for its own approval: the container instance is still ACTIVE.
    expect(drainWaiting.status).toBe("awaiting_approval");
    expect((drainWaiting.plan as Plan).steps).toEqual([
      {
        name: "drain-host",
        destructive: true,
        calls: [{ service: "ecs", operation: "UpdateContainerInstancesState", params: { cluster: cluster.clusterName, containerInstances: [host.containerInstanceArn], status: "DRAINING" } }],
        note: expect.stringMatching(/^Draining the container instance/) as unknown,
      },
    ]);
    // The note names what is drained: the container instance and its EC2 host, every service's tasks on it.
    const drainNote = (drainWaiting.plan as Plan).steps[0]?.note ?? "";
    expect(drainNote).toContain(`${host.containerInstanceArn} (EC2 instance ${host.instanceId})`);
    expect(drainNote).toContain("every service's, not only this task's");
    expect(drainNote).toMatch(/ECS counts \d+ task\(s\) running on it now/);
    expect((await viewContainerInstance(clients, host, [])).status).toBe("ACTIVE");

    await approve(lane, drainWaiting, "alice");
    expect((await waitForStatus(world.db, queued.id, ["succeeded", "failed", "escalated"])).status).toBe("succeeded");
    expect((await viewContainerInstance(clients, host, [])).status).toBe("DRAINING");
    // The host's own remediation still waits for its person; the host is untouched.
    expect((await remediation(world.db, hostRemediationId)).status).toBe("awaiting_approval");
    expect(await hostView(host.instanceId)).toEqual(hostBefore);
    await lane.stop();
  });
});
