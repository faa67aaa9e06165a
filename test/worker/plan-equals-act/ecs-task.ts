// The ECS task playbook's scenario, in approval mode, on tasks seeded in moto by
// ../../support/seed/ecs.ts. A Fargate service's task behind an ip target group: its containment
// plan (protect, leave the load balancer, isolate, tag, snapshot, verify) is approved and carried
// out, its stop declined (it stays contained), and a release requested, approved and carried out,
// so that every release step has something to undo. A standalone Fargate task: contained, then
// stop-task's own plan approved, after which drain-host runs unplanned (it does not apply to an
// awsvpc task: its check says so, so no approval is asked for it). A bridge service task on an EC2
// container instance: isolate plans `responder StartRemediation` (the host's Instance remediation),
// then stop-task (isolate's fallback) and drain-host are each approved, so their real StopTask and
// UpdateContainerInstancesState are compared too.
//
// `responder StartRemediation` is no AWS call: it writes a remediation row (and its audit events)
// in Postgres, which the SDK recorder cannot see. It is taken as sent from what Postgres holds
// afterwards (startedBy below): the started remediation's row (playbook, resource_key, mode, its
// parent) and the parent's `remediation.derived_started` audit event (the reason), attributed to
// the step of the parent that was running when the event was written, and compared with the plan
// like the SDK calls. The host's Instance remediation is held (its queue paused) so that its steps
// never run while the parent's do: the recorder attributes a call to the one step running.
//
// moto does not implement task scale-in protection: the fake of seed/ecs.ts answers it on the
// worker's ECS client, installed after the recorder, so the recorder still sees
// UpdateTaskProtection as sent.
import { approveRemediation, rejectRemediation, requestRelease } from "@gdr/core/approvals/decide";
import { queueFor } from "@gdr/core/queues/queues";
import { expect } from "vitest";
import { ecsTaskPlaybook } from "../../../services/worker/src/playbooks/ecs-task/index.js";
import { waitUntil } from "../../support/index.js";
import {
  ecsClient,
  findingForTask,
  pinTaskLifecycle,
  runTask,
  seedCluster,
  seedContainerInstance,
  seedServiceTask,
  seedTaskNetwork,
  taskProtectionFake,
  viewContainerInstance,
  viewTask,
} from "../../support/seed/ecs.js";
import { findingIdOf, remediationForFinding, startLane, stepsOf, waitForStatus, type Lane, type RemediationRow } from "../engine-harness.js";
import type { Json } from "../../../services/worker/src/engine/step.js";
import type { SentCall } from "./recorder.js";
import { planOf, stepRunsOf, type Scenario, type ScenarioEnv, type StepRun } from "./scenario.js";

const POLICY = ["version: 1", 'accounts: { allow: ["*"] }', "rules:", "  - { name: all, match: { severity: { min: 0 } }, mode: approval }", ""].join("\n");
const SETTLED = ["succeeded", "failed", "skipped", "escalated", "awaiting_approval", "rejected"];
const FINISHED_STEP = ["succeeded", "skipped", "unavailable", "verified"];
const READ_ONLY = ecsTaskPlaybook()
  .steps.filter((s) => s.readOnly === true)
  .map((s) => s.name);

async function approve(env: ScenarioEnv, lane: Lane, waiting: RemediationRow): Promise<void> {
  expect(waiting.status, `remediation ${waiting.id}: ${waiting.error ?? ""}`).toBe("awaiting_approval");
  const decision = await approveRemediation(env.world.db.prisma, lane.queues, { remediationId: waiting.id, actor: "alice", reason: "the plan is what should happen", planHash: waiting.plan_hash ?? "" });
  expect(decision.ok, JSON.stringify(decision)).toBe(true);
}

interface StartedRow {
  id: string;
  playbook: string;
  resource_key: string;
  mode: string;
  parent_id: string | null;
  detail: Record<string, unknown> | null;
  step: string | null;
}

/**
 * The remediations `parentId`'s steps started (ctx.startRemediation), as calls sent: read from
 * Postgres, never from the code under test. The step is the one of the parent whose run (started_at
 * to finished_at) holds the audit event's time; the answer is the started remediation's id.
 */
async function startedBy(env: ScenarioEnv, parentId: string): Promise<SentCall[]> {
  const { rows } = await env.world.db.pool.query<StartedRow>(
    `SELECT r.id::text AS id, r.playbook, r.resource_key, r.mode::text AS mode, r.parent_id::text AS parent_id, a.detail,
            (SELECT s.name FROM remediation_steps s
              WHERE s.remediation_id = a.remediation_id AND s.started_at <= a.at AND s.finished_at >= a.at) AS step
       FROM audit_events a
       LEFT JOIN remediations r ON r.id = (a.detail->>'remediationId')::uuid
      WHERE a.remediation_id = $1::uuid AND a.action = 'remediation.derived_started'
      ORDER BY a.id`,
    [parentId],
  );
  return rows.map((row) => {
    // The row the event names exists and is the parent's: otherwise the call is not what it says.
    expect({ parent: row.parent_id, id: row.id }, `derived_started of ${parentId}: ${JSON.stringify(row.detail)}`).toEqual({ parent: parentId, id: row.detail?.["remediationId"] });
    return {
      remediationId: parentId,
      step: row.step,
      service: "responder",
      operation: "StartRemediation",
      params: { playbook: row.playbook, resourceKey: row.resource_key, mode: row.mode, reason: row.detail?.["reason"] as Json },
      answer: { remediationId: row.id, created: true },
    };
  });
}

/** The runs with the responder calls their steps made added after the SDK calls they sent. */
async function withStarted(env: ScenarioEnv, parentId: string, runs: readonly StepRun[]): Promise<StepRun[]> {
  const started = await startedBy(env, parentId);
  // Every one is attributed to a step of the runs: none outside a step, none unseen.
  expect(started.filter((c) => !runs.some((r) => r.remediationId === parentId && r.step === c.step))).toEqual([]);
  return runs.map((r) => (r.remediationId === parentId ? { ...r, sent: [...r.sent, ...started.filter((c) => c.step === r.step)] } : r));
}

async function waitForSteps(env: ScenarioEnv, remediationId: string, names: readonly string[]): Promise<void> {
  await waitUntil(
    async () => {
      const rows = new Map((await stepsOf(env.world.db, remediationId)).map((r) => [r.name, r.status]));
      if ([...rows.values()].includes("failed")) return true;
      return names.every((n) => FINISHED_STEP.includes(rows.get(n) ?? ""));
    },
    { attempts: 600, what: `steps ${names.join(", ")} to finish` },
  );
}

/** Until the remediation settles on something other than a new plan to approve: approves each plan and carries it out. */
async function approveEveryPlan(
  env: ScenarioEnv,
  lane: Lane,
  id: string,
  options: { final: readonly string[]; declineAt?: string; unplanned?: readonly string[]; unplannedAfterApproval?: readonly string[] },
): Promise<StepRun[]> {
  const { final, declineAt, unplanned = [], unplannedAfterApproval = [] } = options;
  const runs: StepRun[] = [];
  let seen = new Set<string>();
  for (let round = 0; round < 5; round++) {
    await waitUntil(
      async () => {
        const now = await waitForStatus(env.world.db, id, SETTLED);
        return now.status !== "awaiting_approval" || !seen.has(now.plan_hash ?? "");
      },
      { attempts: 600, what: `remediation ${id} to settle on a new plan` },
    );
    const row = (await waitForStatus(env.world.db, id, SETTLED));
    if (row.status !== "awaiting_approval") {
      expect(final, `remediation ${id}: ${row.error ?? ""}`).toContain(row.status);
      return runs;
    }
    seen = new Set([...seen, row.plan_hash ?? ""]);
    const plan = planOf(row);
    if (declineAt !== undefined && plan[0]?.name === declineAt) {
      // Declined: the resource stays contained and the remediation goes back to succeeded.
      const declined = await rejectRemediation(env.world.db.prisma, { remediationId: id, actor: "carol", reason: "keep it contained", planHash: row.plan_hash ?? "" });
      expect(declined.ok, JSON.stringify(declined)).toBe(true);
      expect((await waitForStatus(env.world.db, id, SETTLED)).status).toBe("succeeded");
      return runs;
    }
    await approve(env, lane, row);
    // Steps that run after this plan without one of their own: a destructive step whose check
    // finds nothing to do (drain-host of an awsvpc task) is recorded, not offered for approval.
    const after = round === 0 ? unplanned : unplannedAfterApproval;
    await waitForSteps(env, id, [...plan.map((s) => s.name), ...(round === 0 ? [] : after)]);
    runs.push(...(await stepRunsOf(env, "ecs-task", id, plan, after)));
  }
  throw new Error(`remediation ${id} kept asking for approvals`);
}

export const ecsTaskScenario: Scenario = {
  playbook: "ecs-task",

  async run(env) {
    const ecs = ecsClient(env.world.moto.endpoint);
    const protection = taskProtectionFake();
    const lane = await startLane(env.world, {
      policy: POLICY,
      awsMiddleware: (clients) => {
        env.recorder.install(clients);
        protection.install(clients);
      },
    });
    try {
      const clients = { ...env.world.aws, ecs };
      await pinTaskLifecycle(env.world.moto.endpoint);
      const cluster = await seedCluster(clients);
      const network = await seedTaskNetwork(clients);
      const service = await seedServiceTask(clients, { cluster, network, image: "nginx:1.27" });
      const detail = findingForTask(service.task);
      await lane.send(detail);
      const queued = await remediationForFinding(env.world.db, findingIdOf(detail));
      expect(queued.playbook).toBe("ecs-task");
      const runs = await approveEveryPlan(env, lane, queued.id, { final: ["succeeded"], declineAt: "stop-task", unplanned: READ_ONLY });
      expect((await requestRelease(env.world.db.prisma, lane.queues, queued.id, "erin")).ok).toBe(true);
      expect((await waitForStatus(env.world.db, queued.id, ["awaiting_approval", "failed"])).status).toBe("awaiting_approval");
      const released = await approveEveryPlan(env, lane, queued.id, { final: ["succeeded"] });
      // Every release step had something to undo.
      expect(released.map((r) => [r.step, r.status, r.sent.map((c) => c.operation)])).toEqual([
        ["restore-groups", "succeeded", ["ModifyNetworkInterfaceAttribute"]],
        ["remove-protection", "succeeded", ["UpdateTaskProtection"]],
        ["reregister-targets", "succeeded", ["RegisterTargets"]],
      ]);
      runs.push(...released);

      const standalone = await runTask(clients, { cluster, network, image: "nginx:1.27" });
      const second = findingForTask(standalone);
      await lane.send(second);
      const stopped = await remediationForFinding(env.world.db, findingIdOf(second));
      runs.push(...(await approveEveryPlan(env, lane, stopped.id, { final: ["succeeded"], unplanned: READ_ONLY, unplannedAfterApproval: ["drain-host"] })));

      // A bridge task: its host's Instance remediation is started, held in its paused queue.
      await queueFor(lane.queues, "instance").pause();
      const host = await seedContainerInstance(clients, cluster, network);
      const bridge = await seedServiceTask(clients, { cluster, network, image: "nginx:1.27", containerInstance: host });
      const third = findingForTask(bridge.task);
      await lane.send(third);
      const shared = await remediationForFinding(env.world.db, findingIdOf(third));
      const bridgeRuns = await withStarted(env, shared.id, await approveEveryPlan(env, lane, shared.id, { final: ["succeeded"], unplanned: READ_ONLY }));
      // The host's remediation was planned, started, stopped and drained, each approved.
      expect(bridgeRuns.filter((r) => r.sent.length > 0).map((r) => [r.step, r.status, r.sent.map((c) => c.operation)])).toEqual([
        ["protect-task", "succeeded", ["UpdateTaskProtection"]],
        ["leave-load-balancers", "succeeded", ["DeregisterTargets"]],
        ["isolate", "unavailable", ["StartRemediation"]],
        ["tag", "succeeded", ["TagResource"]],
        ["snapshot-host-volumes", "succeeded", ["CreateSnapshot"]],
        ["stop-task", "succeeded", ["StopTask"]],
        ["drain-host", "succeeded", ["UpdateContainerInstancesState"]],
      ]);
      expect((await viewTask(clients, bridge.task)).desiredStatus).toBe("STOPPED");
      expect((await viewContainerInstance(clients, host, [])).status).toBe("DRAINING");
      runs.push(...bridgeRuns);
      return runs;
    } finally {
      await lane.stop();
      ecs.destroy();
    }
  },
};
