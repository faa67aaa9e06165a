// The ECS task playbook end to end through the real services: a Runtime Monitoring finding on a
// task goes through SQS and ingest (the shipped policy: auto mode for a high-severity ECSCluster
// finding), the worker identifies the task in moto's ECS, protects a service's task from being
// replaced, takes it out of its load balancer, moves its ENI onto the VPC's containment group,
// tags it, and waits for a person before stopping it.
//
// What moto cannot show (../shared/MOTO.md), and how it is covered here:
// - UpdateTaskProtection / GetTaskProtection are not implemented (HTTP 500): a fake on the
//   worker's ECS client answers them as ECS does (seed/ecs.ts taskProtectionFake); the test
//   asserts on what was sent and on what the fake holds.
// - moto lets an account change a task ENI's groups; AWS documents that it does not (the
//   playbook's README): the refusal is injected with SDK middleware on the worker's EC2 client.
// - StopTask leaves the ENI in moto (AWS deletes it): restore after a stop is not shown here.
import { approveRemediation, rejectRemediation, requestRelease } from "@gdr/core/approvals/decide";
import { DEFAULT_EXEMPT_TAG } from "@gdr/core/policy/schema";
import type { AwsClients } from "@gdr/core/aws/clients";
import type { InitializeMiddleware, MiddlewareStack } from "@smithy/types";
import { DescribeSecurityGroupsCommand } from "@aws-sdk/client-ec2";
import { StopTaskCommand, type ECSClient } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ecsClient,
  findingForTask,
  pinTaskLifecycle,
  runTask,
  seedCluster,
  seedServiceTask,
  seedTaskNetwork,
  targetIds,
  taskProtectionFake,
  viewTask,
  type EcsSeedClients,
  type SeededCluster,
  type SeededTaskNetwork,
} from "../support/seed/ecs.js";
import { waitUntil } from "../support/index.js";
import {
  createEngineWorld,
  findingIdOf,
  remediationForFinding,
  startLane,
  stepsOf,
  waitForStatus,
  type EngineWorld,
  type Lane,
  type RemediationRow,
} from "./engine-harness.js";

const SETTLED = ["awaiting_approval", "succeeded", "failed", "skipped", "escalated", "rejected"];

interface Plan {
  action: string;
  reason?: string;
  steps: { name: string; destructive: boolean; note?: string; calls: { service: string; operation: string; params: Record<string, unknown> }[] }[];
}

let world: EngineWorld;
let ecs: ECSClient;
let clients: EcsSeedClients;
let cluster: SeededCluster;
let network: SeededTaskNetwork;

beforeAll(async () => {
  world = await createEngineWorld();
  ecs = ecsClient(world.moto.endpoint);
  clients = { ...world.aws, ecs };
  await pinTaskLifecycle(world.moto.endpoint);
  cluster = await seedCluster(clients);
  network = await seedTaskNetwork(clients);
});

afterAll(async () => {
  ecs.destroy();
  await world.close();
});

async function statusesOf(remediationId: string): Promise<Record<string, string>> {
  return Object.fromEntries((await stepsOf(world.db, remediationId)).map((s) => [s.name, s.status]));
}

async function outputOf(remediationId: string, step: string): Promise<unknown> {
  return (await stepsOf(world.db, remediationId)).find((s) => s.name === step)?.output;
}

async function containmentGroupId(vpcId: string): Promise<string | undefined> {
  const out = await world.aws.ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }, { Name: "group-name", Values: ["guardduty-responder-isolation"] }] }),
  );
  return out.SecurityGroups?.[0]?.GroupId;
}

async function approve(lane: Lane, row: RemediationRow, actor: string): Promise<void> {
  const decision = await approveRemediation(world.db.prisma, lane.queues, { remediationId: row.id, actor, reason: "looked at the plan", planHash: row.plan_hash ?? "" });
  expect(decision.ok, JSON.stringify(decision)).toBe(true);
}

function planOf(row: RemediationRow): Plan {
  return row.plan as Plan;
}

/**
 * After stop-task's approval: drain-host is destructive, but for an awsvpc task its check says it
 * does not apply, so the engine records it (skipped, with the reason) instead of asking a person
 * to approve a plan of no calls. Waits for the end and checks that.
 */
async function approveNoDrain(_lane: Lane, id: string, stopPlanHash: string): Promise<RemediationRow> {
  let settled: RemediationRow | undefined;
  await waitUntil(
    async () => {
      const row = await waitForStatus(world.db, id, SETTLED);
      if (row.status === "awaiting_approval" && row.plan_hash === stopPlanHash) return false;
      settled = row;
      return true;
    },
    { attempts: 300, what: "the stop to be carried out" },
  );
  if (settled?.status !== "succeeded") throw new Error(`expected the remediation to end succeeded, got ${settled?.status ?? "?"}: ${settled?.error ?? ""}`);
  expect((await statusesOf(id))["drain-host"]).toBe("skipped");
  return settled;
}

/** Every ModifyNetworkInterfaceAttribute the worker sends (and, for `refuse`, AWS's refusal of it). */
function eniCalls(refuse?: { eniId: string; allowGroups: () => string[] }) {
  const sent: { eniId: string; groups: string[] }[] = [];
  let installed = 0;
  return {
    sent,
    install(clients: AwsClients): void {
      const middleware: InitializeMiddleware<object, object> = (next, context) => (args) => {
        if (context.commandName === "ModifyNetworkInterfaceAttributeCommand") {
          const input = args.input as { NetworkInterfaceId?: string; Groups?: string[] };
          const call = { eniId: input.NetworkInterfaceId ?? "", groups: input.Groups ?? [] };
          sent.push(call);
          // AWS's answer to changing an ECS-managed ENI (moto allows it): a client error, never retried.
          // Putting the ENI back on its own groups is let through.
          if (refuse && call.eniId === refuse.eniId && call.groups.join() !== refuse.allowGroups().join()) {
            const error = Object.assign(new Error("You are not allowed to manage this network interface: it is managed by ECS"), {
              name: "OperationNotPermitted",
              $fault: "client",
              $metadata: { httpStatusCode: 400 },
            });
            return Promise.reject(error);
          }
        }
        return next(args);
      };
      (clients.ec2 as unknown as { middlewareStack: MiddlewareStack<object, object> }).middlewareStack.add(middleware, { step: "initialize", name: `ecs-task-eni-${++installed}` });
    },
  };
}

async function contained(remediationId: string): Promise<Date | null> {
  const { rows } = await world.db.pool.query<{ contained_at: Date | null }>("SELECT contained_at FROM remediations WHERE id = $1::uuid", [remediationId]);
  return rows[0]?.contained_at ?? null;
}

describe("a Fargate task (awsvpc)", () => {
  it("standalone: isolated and tagged at once, stopped only once approved, with a reason naming the finding", async () => {
    const protection = taskProtectionFake();
    const lane = await startLane(world, { awsMiddleware: (c) => { protection.install(c); } });
    const task = await runTask(clients, { cluster, network, image: "nginx:1.27" });
    const detail = findingForTask(task);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));
    expect(queued).toMatchObject({ playbook: "ecs-task", mode: "auto", resource_key: task.taskArn });

    const waiting = await waitForStatus(world.db, queued.id, SETTLED);
    expect(waiting.status).toBe("awaiting_approval");
    expect(await statusesOf(queued.id)).toEqual({
      identify: "succeeded",
      "protect-task": "skipped",
      "leave-load-balancers": "skipped",
      isolate: "succeeded",
      tag: "succeeded",
      "snapshot-host-volumes": "skipped",
      verify: "verified",
      "stop-task": "awaiting_approval",
    });
    expect(await contained(queued.id)).toBeInstanceOf(Date);
    // A standalone task has no service: no protection call at all.
    expect(protection.updates).toEqual([]);
    const group = await containmentGroupId(network.vpcId);
    expect(group).toMatch(/^sg-/);
    const view = await viewTask(clients, task);
    expect(view).toMatchObject({ lastStatus: "RUNNING", desiredStatus: "RUNNING", eniGroups: [group] });
    expect(view.tags).toEqual({
      "guardduty-responder:finding-id": findingIdOf(detail),
      "guardduty-responder:remediation-id": queued.id,
      "guardduty-responder:state": "isolated",
    });
    const reason = `Stopped by GuardDuty responder: GuardDuty finding ${findingIdOf(detail)}, remediation ${queued.id}`;
    expect(planOf(waiting)).toMatchObject({
      ifDeclined: "contained",
      steps: [{ name: "stop-task", destructive: true, calls: [{ service: "ecs", operation: "StopTask", params: { cluster: cluster.clusterName, task: task.taskArn, reason } }] }],
    });
    expect(planOf(waiting).steps[0]?.note).toBeUndefined();

    await approve(lane, waiting, "alice");
    expect((await approveNoDrain(lane, queued.id, waiting.plan_hash ?? "")).status).toBe("succeeded");
    expect(await viewTask(clients, task)).toMatchObject({ desiredStatus: "STOPPED", stoppedReason: reason });
    expect((await statusesOf(queued.id))["drain-host"]).toBe("skipped");
    await lane.stop();
  });

  it("a service's task: protected from scale-in, out of its target group, isolated; the stop plan says the service starts it again", async () => {
    const protection = taskProtectionFake();
    const lane = await startLane(world, { awsMiddleware: (c) => { protection.install(c); } });
    const service = await seedServiceTask(clients, { cluster, network, image: "nginx:1.27" });
    const targetGroupArn = service.targetGroup?.targetGroupArn ?? "";
    expect(await targetIds(clients, targetGroupArn)).toEqual([`${service.task.privateIp}:8080`]);
    const detail = findingForTask(service.task);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));

    const waiting = await waitForStatus(world.db, queued.id, SETTLED);
    expect(waiting.status).toBe("awaiting_approval");
    expect(await statusesOf(queued.id)).toMatchObject({ "protect-task": "succeeded", "leave-load-balancers": "succeeded", isolate: "succeeded", verify: "verified" });
    // Protection as sent (moto has none: the fake holds what ECS would).
    expect(protection.updates).toEqual([{ tasks: [service.task.taskArn], protectionEnabled: true, expiresInMinutes: 2880 }]);
    expect(protection.protectedTasks.get(service.task.taskArn)).toEqual({ enabled: true, expiresInMinutes: 2880 });
    expect(await outputOf(queued.id, "protect-task")).toMatchObject({ serviceName: service.serviceName, protectionEnabled: true });
    expect(JSON.stringify(await outputOf(queued.id, "protect-task"))).toMatch(/container health check fails/);
    expect(await targetIds(clients, targetGroupArn)).toEqual([]);
    expect((await viewTask(clients, service.task)).eniGroups).toEqual([await containmentGroupId(network.vpcId)]);
    const stop = planOf(waiting).steps[0];
    expect(stop?.name).toBe("stop-task");
    expect(stop?.note).toContain(`service ${service.serviceName}`);
    expect(stop?.note).toContain(service.task.taskDefinitionArn);
    // Approval-gated: nothing stops before a person decides.
    expect((await viewTask(clients, service.task)).lastStatus).toBe("RUNNING");
    await lane.stop();
  });

  it("a second finding on a contained task changes nothing isolation already did", async () => {
    const calls = eniCalls();
    const protection = taskProtectionFake();
    const lane = await startLane(world, { awsMiddleware: (c) => { calls.install(c); protection.install(c); } });
    const task = await runTask(clients, { cluster, network, image: "nginx:1.27" });
    const first = findingForTask(task);
    await lane.send(first);
    const one = await waitForStatus(world.db, (await remediationForFinding(world.db, findingIdOf(first))).id, SETTLED);
    expect(one.status).toBe("awaiting_approval");
    const moves = calls.sent.length;
    expect(moves).toBe(2); // original → transit → containment
    const isolated = await viewTask(clients, task);

    const second = findingForTask(task);
    await lane.send(second);
    const queued = await remediationForFinding(world.db, findingIdOf(second));
    expect(queued.id).not.toBe(one.id);
    expect((await waitForStatus(world.db, queued.id, SETTLED)).status).toBe("awaiting_approval");
    expect((await statusesOf(queued.id))["isolate"]).toBe("skipped");
    expect(calls.sent.length).toBe(moves);
    expect((await viewTask(clients, task)).eniGroups).toEqual(isolated.eniGroups);

    // Both stops declined, the first remediation released: the ENI is back on its own groups.
    // The second recorded the containment group as the ENI's groups when it found it: its release
    // must not put the ENI back there (it leaves the ENI to the remediation that contained it).
    for (const id of [one.id, queued.id]) {
      const waiting = await waitForStatus(world.db, id, SETTLED);
      expect(await rejectRemediation(world.db.prisma, { remediationId: id, actor: "carol", reason: "keep it contained", planHash: waiting.plan_hash ?? "" })).toMatchObject({ ok: true });
    }
    for (const id of [one.id, queued.id]) {
      expect((await waitForStatus(world.db, id, ["succeeded", "failed"])).status).toBe("succeeded");
      expect((await requestRelease(world.db.prisma, lane.queues, id, "erin")).ok).toBe(true);
      const release = await waitForStatus(world.db, id, ["awaiting_approval", "failed"]);
      expect(release.status, release.error ?? "").toBe("awaiting_approval");
      await approve(lane, release, "frank");
      expect((await waitForStatus(world.db, id, ["succeeded", "failed"])).status).toBe("succeeded");
      expect((await viewTask(clients, task)).eniGroups).toEqual(task.eniGroups);
    }
    const secondRestore = (await stepsOf(world.db, queued.id)).find((s) => s.name === "restore-groups");
    expect(secondRestore?.output).toEqual({ restored: [], gone: [] });
    await lane.stop();
  });

  it("a task that has already stopped ends skipped, with when and why it stopped", async () => {
    const lane = await startLane(world);
    const task = await runTask(clients, { cluster, network, image: "nginx:1.27" });
    await ecs.send(new StopTaskCommand({ cluster: cluster.clusterName, task: task.taskArn, reason: "scaled in by the team" }));
    const before = await viewTask(clients, task);
    const detail = findingForTask(task);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));
    const ended = await waitForStatus(world.db, queued.id, SETTLED);
    expect(ended.status).toBe("skipped");
    expect(ended.error).toMatch(/^resource_terminated: nothing to contain: task /);
    expect(ended.error).toContain(task.taskArn);
    expect(ended.error).toContain("desired STOPPED");
    expect(ended.error).toContain("scaled in by the team");
    expect(await viewTask(clients, task)).toEqual(before);
    await lane.stop();
  });

  it("AWS refusing the ENI change: isolate is unavailable with AWS's answer, stopping is offered, and approved it contains", async () => {
    const task = await runTask(clients, { cluster, network, image: "nginx:1.27" });
    const calls = eniCalls({ eniId: task.eniId ?? "", allowGroups: () => task.eniGroups });
    const lane = await startLane(world, { awsMiddleware: (c) => { calls.install(c); } });
    const detail = findingForTask(task);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));
    const waiting = await waitForStatus(world.db, queued.id, SETTLED);
    expect(waiting.status).toBe("awaiting_approval");
    const steps = await stepsOf(world.db, queued.id);
    const isolate = steps.find((s) => s.name === "isolate");
    expect(isolate?.status).toBe("unavailable");
    expect(isolate?.output).toMatchObject({ mode: "refused", eniId: task.eniId, code: "OperationNotPermitted", restored: true });
    expect(await contained(queued.id)).toBeNull();
    // The plan offers the fallback, saying why, and names the documentation.
    const plan = planOf(waiting);
    expect(plan.steps.map((s) => s.name)).toEqual(["stop-task"]);
    expect(plan.reason).toMatch(/^isolate could not be done: AWS refused changing the security groups of task ENI eni-[0-9a-f]+: OperationNotPermitted/);
    expect(plan.reason).toContain("task-networking-awsvpc");
    // The ENI is on its own groups again, the task still runs, and it says it is not isolated.
    const view = await viewTask(clients, task);
    expect(view).toMatchObject({ lastStatus: "RUNNING", eniGroups: task.eniGroups });
    expect(view.tags["guardduty-responder:state"]).toBe("not-isolated");

    await approve(lane, waiting, "alice");
    expect((await approveNoDrain(lane, queued.id, waiting.plan_hash ?? "")).status).toBe("succeeded");
    expect((await viewTask(clients, task)).desiredStatus).toBe("STOPPED");
    expect(await contained(queued.id)).toBeInstanceOf(Date);
    await lane.stop();
  });

  it("release puts the task ENI back on its groups, and leaves a task that runs on", async () => {
    const lane = await startLane(world);
    const task = await runTask(clients, { cluster, network, image: "nginx:1.27" });
    const detail = findingForTask(task);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));
    const waiting = await waitForStatus(world.db, queued.id, SETTLED);
    expect(waiting.status).toBe("awaiting_approval");
    // The stop is declined: the task stays contained and can be released.
    expect(await rejectRemediation(world.db.prisma, { remediationId: queued.id, actor: "carol", reason: "keep it running isolated", planHash: waiting.plan_hash ?? "" })).toMatchObject({ ok: true });
    expect((await viewTask(clients, task)).eniGroups).not.toEqual(task.eniGroups);

    expect((await requestRelease(world.db.prisma, lane.queues, queued.id, "erin")).ok).toBe(true);
    const release = await waitForStatus(world.db, queued.id, ["awaiting_approval", "failed"]);
    expect(planOf(release)).toMatchObject({
      action: "release",
      steps: [
        { name: "restore-groups", calls: [{ operation: "ModifyNetworkInterfaceAttribute", params: { NetworkInterfaceId: task.eniId, Groups: task.eniGroups } }] },
        { name: "remove-protection", calls: [] },
        { name: "reregister-targets", calls: [] },
      ],
    });
    await approve(lane, release, "frank");
    expect((await waitForStatus(world.db, queued.id, ["succeeded", "failed"])).status).toBe("succeeded");
    expect(await viewTask(clients, task)).toMatchObject({ lastStatus: "RUNNING", eniGroups: task.eniGroups });
    await lane.stop();
  });

  it("approval mode: the containment plan says what protection leaves, and nothing changes before a person approves", async () => {
    const policy = ["version: 1", 'accounts: { allow: ["*"] }', "rules:", "  - { name: all, match: { severity: { min: 0 } }, mode: approval }", ""].join("\n");
    const protection = taskProtectionFake();
    const lane = await startLane(world, { policy, awsMiddleware: (c) => { protection.install(c); } });
    const service = await seedServiceTask(clients, { cluster, network, image: "nginx:1.27" });
    const targetGroupArn = service.targetGroup?.targetGroupArn ?? "";
    const detail = findingForTask(service.task);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));
    const waiting = await waitForStatus(world.db, queued.id, SETTLED);
    expect(waiting.status).toBe("awaiting_approval");
    const plan = planOf(waiting);
    const byName = Object.fromEntries(plan.steps.map((s) => [s.name, s]));
    expect(Object.keys(byName)).toEqual(["protect-task", "leave-load-balancers", "isolate", "tag", "snapshot-host-volumes", "verify"]);
    expect(byName["protect-task"]).toMatchObject({
      calls: [{ service: "ecs", operation: "UpdateTaskProtection", params: { cluster: cluster.clusterName, tasks: [service.task.taskArn], protectionEnabled: true, expiresInMinutes: 2880 } }],
      note: expect.stringContaining("does not keep ECS from replacing the task when a container health check fails") as unknown,
    });
    expect(byName["leave-load-balancers"]?.calls).toEqual([
      { service: "elbv2", operation: "DeregisterTargets", params: { TargetGroupArn: targetGroupArn, Targets: [{ Id: service.task.privateIp, Port: 8080 }] } },
    ]);
    expect(byName["isolate"]?.calls.map((c) => c.operation)).toContain("ModifyNetworkInterfaceAttribute");
    // Plan mode cannot try the change AWS may refuse: the plan says so, with the documentation.
    expect(byName["isolate"]?.note).toMatch(/^The task ENI is managed by ECS .*task-networking-awsvpc.*stopping the task \(stop-task\) is offered for approval/);
    // A Fargate task's ENI carries the platform's traffic (logs, image pulls, secrets) too: said.
    expect(byName["isolate"]?.note).toContain("On Fargate (platform version 1.4.0 and later) the task ENI carries the platform's traffic");
    expect(byName["snapshot-host-volumes"]).toMatchObject({ calls: [], note: expect.stringMatching(/^does not apply: a FARGATE task has no EC2 host/) as unknown });
    // Nothing changed: no protection call, the target still registered, the ENI on its own groups.
    expect(protection.updates).toEqual([]);
    expect(await targetIds(clients, targetGroupArn)).toEqual([`${service.task.privateIp}:8080`]);
    expect(await viewTask(clients, service.task)).toMatchObject({ lastStatus: "RUNNING", eniGroups: service.task.eniGroups, tags: {} });
    await lane.stop();
  });

  it("a task carrying the exemption tag is held for a person, never skipped: it may have tagged itself", async () => {
    const lane = await startLane(world);
    const task = await runTask(clients, { cluster, network, image: "nginx:1.27", tags: { [DEFAULT_EXEMPT_TAG.key]: DEFAULT_EXEMPT_TAG.value } });
    const detail = findingForTask(task);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));
    expect(queued.mode).toBe("auto");
    const waiting = await waitForStatus(world.db, queued.id, SETTLED);
    expect(waiting.status).toBe("awaiting_approval");
    expect(planOf(waiting).reason).toBe(
      `the live task carries the exemption tag ${DEFAULT_EXEMPT_TAG.key}=${DEFAULT_EXEMPT_TAG.value}; a workload can tag itself, so containment waits for a person instead of being skipped`,
    );
    expect(planOf(waiting).steps.map((s) => s.name)).toContain("isolate");
    expect((await viewTask(clients, task)).eniGroups).toEqual(task.eniGroups);
    await lane.stop();
  });

  it("a task ECS does not know ends skipped as gone, before anything is changed", async () => {
    const lane = await startLane(world);
    const task = await runTask(clients, { cluster, network, image: "nginx:1.27" });
    const unknown = { ...task, taskArn: task.taskArn.replace(/[0-9a-f]{4}$/, "beef") };
    const detail = findingForTask(unknown);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));
    const ended = await waitForStatus(world.db, queued.id, SETTLED);
    expect(ended.status).toBe("skipped");
    expect(ended.error).toBe(`resource_gone: task ${unknown.taskArn} does not exist in cluster ${cluster.clusterName}`);
    expect(await statusesOf(queued.id)).toEqual({ identify: "skipped" });
    await lane.stop();
  });

  it("scale-in protection that ECS cannot set (moto answers 500) is recorded unavailable, and isolation goes ahead", async () => {
    // No fake here: moto's own answer to UpdateTaskProtection, which the demo meets too.
    const lane = await startLane(world);
    const service = await seedServiceTask(clients, { cluster, network, image: "nginx:1.27", loadBalanced: false });
    const detail = findingForTask(service.task);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));
    expect((await waitForStatus(world.db, queued.id, SETTLED)).status).toBe("awaiting_approval");
    const steps = await stepsOf(world.db, queued.id);
    const protect = steps.find((s) => s.name === "protect-task");
    expect(protect?.status).toBe("unavailable");
    expect(protect?.output).toMatchObject({ serviceName: service.serviceName, protectionEnabled: false });
    expect(steps.find((s) => s.name === "isolate")?.status).toBe("succeeded");
    expect((await viewTask(clients, service.task)).eniGroups).toEqual([await containmentGroupId(network.vpcId)]);
    await lane.stop();
  });

  it("protection the workload set itself is left as it is, and release does not clear it", async () => {
    const protection = taskProtectionFake();
    const lane = await startLane(world, { awsMiddleware: (c) => { protection.install(c); } });
    const service = await seedServiceTask(clients, { cluster, network, image: "nginx:1.27", loadBalanced: false });
    protection.protectedTasks.set(service.task.taskArn, { enabled: true, expiresInMinutes: 30 });
    const detail = findingForTask(service.task);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));
    const waiting = await waitForStatus(world.db, queued.id, SETTLED);
    expect(waiting.status).toBe("awaiting_approval");
    expect((await statusesOf(queued.id))["protect-task"]).toBe("skipped");
    expect(await outputOf(queued.id, "protect-task")).toMatchObject({ protectionEnabled: false });
    expect(protection.updates).toEqual([]);

    expect(await rejectRemediation(world.db.prisma, { remediationId: queued.id, actor: "carol", reason: "keep it isolated", planHash: waiting.plan_hash ?? "" })).toMatchObject({ ok: true });
    expect((await requestRelease(world.db.prisma, lane.queues, queued.id, "erin")).ok).toBe(true);
    const release = await waitForStatus(world.db, queued.id, ["awaiting_approval", "failed"]);
    expect(planOf(release).steps.find((s) => s.name === "remove-protection")).toMatchObject({ calls: [], note: "this remediation set no scale-in protection" });
    await approve(lane, release, "frank");
    expect((await waitForStatus(world.db, queued.id, ["succeeded", "failed"])).status).toBe("succeeded");
    expect(protection.updates).toEqual([]);
    expect(protection.protectedTasks.get(service.task.taskArn)).toEqual({ enabled: true, expiresInMinutes: 30 });
    await lane.stop();
  });
});
