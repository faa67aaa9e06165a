// The Instance playbook's scenario: an instance in an Auto Scaling group and a target group, in
// approval mode. Its containment plan (every step up to the destructive one) is approved and
// carried out; then a release is requested, approved and carried out. A second instance in the same
// VPC, with terminate enabled (the worker option WORKER_INSTANCE_TERMINATE), is contained the same
// way: the VPC's transit and containment groups exist by then, so its plan takes the other path
// (no group created, only each interface's two moves); its termination, a plan and an approval of
// its own, is approved too.
import { approveRemediation, requestRelease } from "@gdr/core/approvals/decide";
import { expect } from "vitest";
import { instancePlaybook } from "../../../services/worker/src/playbooks/instance/index.js";
import { findingFor, findingIdOf, remediationForFinding, seed, startLane, stepsOf, waitForStatus, type Lane, type RemediationRow } from "../engine-harness.js";
import { waitUntil } from "../../support/index.js";
import { planOf, stepRunsOf, type Scenario, type ScenarioEnv, type StepRun } from "./scenario.js";

/** Every finding waits for a person. */
const POLICY = ["version: 1", 'accounts: { allow: ["*"] }', "rules:", "  - { name: all, match: { severity: { min: 0 } }, mode: approval }", ""].join("\n");
const SETTLED = ["succeeded", "failed", "skipped", "escalated", "awaiting_approval", "rejected"];
const FINISHED_STEP = ["succeeded", "skipped", "unavailable", "verified"];

/** Read-only steps run before a plan is frozen: in no plan, they must send no change. */
const READ_ONLY = instancePlaybook({ terminate: false })
  .steps.filter((s) => s.readOnly === true)
  .map((s) => s.name);

async function approve(env: ScenarioEnv, lane: Lane, waiting: RemediationRow): Promise<void> {
  expect(waiting.status, `remediation ${waiting.id}: ${waiting.error ?? ""}`).toBe("awaiting_approval");
  const decision = await approveRemediation(env.world.db.prisma, lane.queues, {
    remediationId: waiting.id,
    actor: "alice",
    reason: "the plan is what should happen",
    planHash: waiting.plan_hash ?? "",
  });
  expect(decision.ok, JSON.stringify(decision)).toBe(true);
}

/** Waits until every step of the plan has finished (the evidence job may still run after isolate). */
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

/** Sends a finding for a new instance, approves the containment plan, waits for it to be carried out. */
async function contain(env: ScenarioEnv, lane: Lane, seedOptions: Parameters<typeof seed>[1]): Promise<{ id: string; runs: StepRun[]; after: RemediationRow; seeded: Awaited<ReturnType<typeof seed>> }> {
  const seeded = await seed(env.world, seedOptions);
  const detail = findingFor(seeded);
  await lane.send(detail);
  const queued = await remediationForFinding(env.world.db, findingIdOf(detail));
  const waiting = await waitForStatus(env.world.db, queued.id, SETTLED);
  await approve(env, lane, waiting);
  const plan = planOf(waiting);
  await waitForSteps(env, queued.id, plan.map((s) => s.name));
  const after = await waitForStatus(env.world.db, queued.id, SETTLED);
  return { id: queued.id, runs: await stepRunsOf(env, "instance", queued.id, plan, READ_ONLY), after, seeded };
}

export const instanceScenario: Scenario = {
  playbook: "instance",

  async run(env) {
    const runs: StepRun[] = [];
    let firstVpc: { vpcId: string; subnetIds: [string, string] } | undefined;

    const lane = await startLane(env.world, { policy: POLICY, awsMiddleware: (clients) => {
        env.recorder.install(clients);
      } });
    try {
      const contained = await contain(env, lane, {});
      firstVpc = { vpcId: contained.seeded.vpcId, subnetIds: [contained.seeded.subnetId, contained.seeded.subnetId] };
      runs.push(...contained.runs);
      expect(contained.after.status).toBe("succeeded");

      expect((await requestRelease(env.world.db.prisma, lane.queues, contained.id, "erin")).ok).toBe(true);
      const release = await waitForStatus(env.world.db, contained.id, ["awaiting_approval", "failed"]);
      await approve(env, lane, release);
      const plan = planOf(release);
      await waitForSteps(env, contained.id, plan.map((s) => s.name));
      expect((await waitForStatus(env.world.db, contained.id, ["succeeded", "failed"])).status).toBe("succeeded");
      runs.push(...(await stepRunsOf(env, "instance", contained.id, plan)));
    } finally {
      await lane.stop();
    }

    const terminating = await startLane(env.world, {
      policy: POLICY,
      worker: { WORKER_INSTANCE_TERMINATE: "true" },
      awsMiddleware: (clients) => {
        env.recorder.install(clients);
      },
    });
    try {
      const contained = await contain(env, terminating, { targetGroup: false, vpc: firstVpc });
      runs.push(...contained.runs);
      // The existing groups' path: nothing created, no rule added or revoked; each interface
      // moves to the transit group, then to the containment group.
      const isolate = contained.runs.find((r) => r.step === "isolate");
      expect(isolate?.planned.map((c) => c.operation)).toEqual([
        "ModifyNetworkInterfaceAttribute",
        "ModifyNetworkInterfaceAttribute",
        "ModifyNetworkInterfaceAttribute",
        "ModifyNetworkInterfaceAttribute",
      ]);
      // terminate waits for a decision of its own, with a plan of its own.
      await approve(env, terminating, contained.after);
      const plan = planOf(contained.after);
      expect(plan.map((s) => s.name)).toEqual(["terminate"]);
      await waitForSteps(env, contained.id, ["terminate"]);
      expect((await waitForStatus(env.world.db, contained.id, ["succeeded", "failed"])).status).toBe("succeeded");
      runs.push(...(await stepRunsOf(env, "instance", contained.id, plan)));
    } finally {
      await terminating.stop();
    }
    return runs;
  },
};
