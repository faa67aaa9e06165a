// The ECS task playbook's scenario, in approval mode, on Fargate tasks seeded in moto by
// ../../support/seed/ecs.ts. A service's task behind an ip target group: its containment plan
// (protect, leave the load balancer, isolate, tag, snapshot, verify) is approved and carried out,
// its stop declined (it stays contained), and a release requested, approved and carried out, so
// that every release step has something to undo. A standalone task: contained, then stop-task's
// own plan approved, after which drain-host runs unplanned (it does not apply to an awsvpc task: its check says so, so no approval is asked for it). moto does not implement task scale-in protection: the
// fake of seed/ecs.ts answers it on the worker's ECS client, installed after the recorder, so the
// recorder still sees UpdateTaskProtection as sent. A bridge task's isolate plans
// `responder StartRemediation`, a row in Postgres the AWS recorder cannot see: the bridge path is
// covered by ../ecs-task-host.test.ts instead.
import { approveRemediation, rejectRemediation, requestRelease } from "@gdr/core/approvals/decide";
import { expect } from "vitest";
import { ecsTaskPlaybook } from "../../../services/worker/src/playbooks/ecs-task/index.js";
import { waitUntil } from "../../support/index.js";
import { ecsClient, findingForTask, pinTaskLifecycle, runTask, seedCluster, seedServiceTask, seedTaskNetwork, taskProtectionFake } from "../../support/seed/ecs.js";
import { findingIdOf, remediationForFinding, startLane, stepsOf, waitForStatus, type Lane, type RemediationRow } from "../engine-harness.js";
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
      return runs;
    } finally {
      await lane.stop();
      ecs.destroy();
    }
  },
};
