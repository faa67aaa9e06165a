// The compromised-image playbook's scenario: an image in this account's ECR used by tasks in two
// clusters (one a service's, one through its second container) and by an ACTIVE definition that
// nothing runs (seeded by ../../support/seed/ecr.ts). The policy sends ECS findings to notify and
// adds the image remediation in approval mode, so that both of its changing steps are approved
// plans: first the scan (evidence), then the one destructive plan (deregister, delete, stop). The
// read-only steps (resolve-image, find-users) run before any plan and must send no change.
import { approveRemediation } from "@gdr/core/approvals/decide";
import { expect } from "vitest";
import { waitUntil } from "../../support/index.js";
import { ecrClient, imageFinding, seedImageWorld } from "../../support/seed/ecr.js";
import { ecsClient, pinTaskLifecycle } from "../../support/seed/ecs.js";
import { findingIdOf, remediation, remediationsOf, startLane, stepsOf, type Lane, type RemediationRow } from "../engine-harness.js";
import { planOf, stepRunsOf, type Scenario, type ScenarioEnv } from "./scenario.js";

const POLICY = [
  "version: 1",
  'accounts: { allow: ["*"] }',
  "rules:",
  "  - { name: ecs, match: { resourceTypes: [ECSCluster] }, mode: notify }",
  "additional:",
  "  - { name: image, match: { resourceTypes: [ECSCluster], modifyingProcess: absent }, playbook: container-image, mode: approval }",
  "",
].join("\n");
const FINISHED_STEP = ["succeeded", "skipped", "unavailable", "verified"];
const READ_ONLY = ["resolve-image", "find-users"];

async function approve(env: ScenarioEnv, lane: Lane, waiting: RemediationRow): Promise<void> {
  expect(waiting.status, `remediation ${waiting.id}: ${waiting.error ?? ""}`).toBe("awaiting_approval");
  const decision = await approveRemediation(env.world.db.prisma, lane.queues, { remediationId: waiting.id, actor: "alice", reason: "the plan is what should happen", planHash: waiting.plan_hash ?? "" });
  expect(decision.ok, JSON.stringify(decision)).toBe(true);
}

/** Waits for the remediation to wait on a plan whose first step is `step` (or to fail). */
async function waitForPlan(env: ScenarioEnv, id: string, step: string): Promise<RemediationRow> {
  let row: RemediationRow | undefined;
  await waitUntil(
    async () => {
      row = await remediation(env.world.db, id);
      if (["failed", "escalated", "succeeded"].includes(row.status)) return true;
      return row.status === "awaiting_approval" && planOf(row)[0]?.name === step;
    },
    { attempts: 600, what: `a plan starting at ${step}` },
  );
  if (!row) throw new Error("no remediation row");
  return row;
}

async function waitForSteps(env: ScenarioEnv, id: string, names: readonly string[]): Promise<void> {
  await waitUntil(
    async () => {
      const rows = new Map((await stepsOf(env.world.db, id)).map((r) => [r.name, r.status]));
      if ([...rows.values()].includes("failed")) return true;
      return names.every((n) => FINISHED_STEP.includes(rows.get(n) ?? ""));
    },
    { attempts: 600, what: `steps ${names.join(", ")} to finish` },
  );
}

export const containerImageScenario: Scenario = {
  playbook: "container-image",

  async run(env) {
    const ecs = ecsClient(env.world.moto.endpoint);
    const ecr = ecrClient(env.world.moto.endpoint);
    await pinTaskLifecycle(env.world.moto.endpoint);
    const lane = await startLane(env.world, { policy: POLICY, awsMiddleware: (clients) => { env.recorder.install(clients); } });
    try {
      const seeded = await seedImageWorld({ ...env.world.aws, ecs, ecr });
      const detail = imageFinding(seeded.task);
      await lane.send(detail);
      let id: string | undefined;
      await waitUntil(async () => {
        id = (await remediationsOf(env.world.db, { findingId: findingIdOf(detail) })).find((r) => r.playbook === "container-image")?.id;
        return id !== undefined;
      }, { attempts: 300, what: "the image remediation" });
      if (!id) throw new Error("no image remediation");

      const scanPlan = await waitForPlan(env, id, "scan-image");
      await approve(env, lane, scanPlan);
      const removePlan = await waitForPlan(env, id, "remove-image");
      await approve(env, lane, removePlan);
      await waitForSteps(env, id, ["remove-image"]);
      const done = await remediation(env.world.db, id);
      expect(done.status, done.error ?? "").toBe("succeeded");
      const runs = await stepRunsOf(env, "container-image", id, planOf(scanPlan), READ_ONLY);
      runs.push(...(await stepRunsOf(env, "container-image", id, planOf(removePlan))));
      // The destructive plan did real work: four definitions (the task's, the service's, the
      // sidecar's, the idle one), the image, three tasks.
      const operations = planOf(removePlan)[0]?.calls.map((c) => c.operation) ?? [];
      expect(operations.filter((o) => o === "DeregisterTaskDefinition")).toHaveLength(4);
      expect(operations.filter((o) => o === "BatchDeleteImage")).toHaveLength(1);
      expect(operations.filter((o) => o === "StopTask")).toHaveLength(3);
      return runs;
    } finally {
      await lane.stop();
      ecs.destroy();
      ecr.destroy();
    }
  },
};
