// The Credentials playbook's scenario: an IAM user's key and an assumed role's session (seeded in
// moto by ../../support/seed/access-key.ts), each in approval mode: the containment plan is
// approved and carried out, then a release is requested, approved and carried out. Between the
// two every step runs with an effect somewhere: deactivate-key and reactivate-key on the key,
// revoke-sessions and remove-revoke-policy on the role (each is a recorded no-op on the other).
//
// One value in these plans is not an answer of AWS: revoke-sessions' cutoff is the time act runs,
// so the plan shows "(the time this step runs)" inside the PutRolePolicy document. It is bound
// here, where the comparison cannot see into a JSON string: the sent document must carry exactly
// one cutoff, in the aws:TokenIssueTime condition, equal to the one the step recorded and no
// earlier than the approval; with it put back as the placeholder, the sent call must equal the
// planned one like any other.
import { approveRemediation, requestRelease } from "@gdr/core/approvals/decide";
import { expect } from "vitest";
import { CUTOFF_PLACEHOLDER } from "../../../services/worker/src/playbooks/access-key/revoke-policy.js";
import { stepRows, waitUntil } from "../../support/index.js";
import { iamClients, roleSessionFinding, seedRoleSession, seedUserKey, userKeyFinding } from "../../support/seed/access-key.js";
import { findingIdOf, remediationForFinding, startLane, waitForStatus, type Lane, type RemediationRow } from "../engine-harness.js";
import { planOf, stepRunsOf, type Scenario, type ScenarioEnv, type StepRun } from "./scenario.js";

/** Every finding waits for a person (the shipped policy does the same for AccessKey at medium and above). */
const POLICY = ["version: 1", 'accounts: { allow: ["*"] }', "rules:", "  - { name: all, match: { severity: { min: 0 } }, mode: approval }", ""].join("\n");
const SETTLED = ["succeeded", "failed", "skipped", "escalated", "awaiting_approval", "rejected"];
const FINISHED_STEP = ["succeeded", "skipped", "unavailable", "verified"];
/** identify only reads, before any plan is frozen: in no plan, it must send no change. */
const READ_ONLY = ["identify"];

async function approve(env: ScenarioEnv, lane: Lane, waiting: RemediationRow): Promise<number> {
  expect(waiting.status, `remediation ${waiting.id}: ${waiting.error ?? ""}`).toBe("awaiting_approval");
  const at = Date.now();
  const decision = await approveRemediation(env.world.db.prisma, lane.queues, { remediationId: waiting.id, actor: "alice", reason: "the plan is what should happen", planHash: waiting.plan_hash ?? "" });
  expect(decision.ok, JSON.stringify(decision)).toBe(true);
  return at;
}

async function waitForSteps(env: ScenarioEnv, remediationId: string, names: readonly string[]): Promise<void> {
  await waitUntil(
    async () => {
      const rows = new Map((await stepRows(env.world.db, remediationId)).map((r) => [r.name, r.status]));
      if ([...rows.values()].includes("failed")) return true;
      return names.every((n) => FINISHED_STEP.includes(rows.get(n) ?? ""));
    },
    { attempts: 600, what: `steps ${names.join(", ")} to finish` },
  );
}

/** Puts the placeholder back for the cutoff revoke-sessions sent (see the header), after checking it. */
async function bindCutoff(env: ScenarioEnv, run: StepRun, approvedAt: number): Promise<StepRun> {
  if (run.step !== "revoke-sessions" || run.sent.length === 0) return run;
  const recorded = (await stepRows(env.world.db, run.remediationId)).find((r) => r.name === "revoke-sessions")?.output as { cutoff?: unknown } | undefined;
  const cutoff = recorded?.cutoff;
  expect(typeof cutoff).toBe("string");
  expect(Date.parse(String(cutoff))).toBeGreaterThanOrEqual(approvedAt);
  return {
    ...run,
    sent: run.sent.map((call) => {
      const document = call.params["PolicyDocument"];
      if (call.operation !== "PutRolePolicy" || typeof document !== "string") return call;
      const slot = `"aws:TokenIssueTime":${JSON.stringify(cutoff)}`;
      expect(document.split(String(cutoff)).length - 1, "the cutoff appears once, in the condition").toBe(1);
      expect(document).toContain(slot);
      return { ...call, params: { ...call.params, PolicyDocument: document.replace(slot, `"aws:TokenIssueTime":${JSON.stringify(CUTOFF_PLACEHOLDER)}`) } };
    }),
  };
}

/** One remediation through containment and release; the runs of every step with their plans. */
async function containAndRelease(env: ScenarioEnv, lane: Lane, detail: Parameters<Lane["send"]>[0]): Promise<StepRun[]> {
  await lane.send(detail);
  const queued = await remediationForFinding(env.world.db, findingIdOf(detail));
  expect(queued.playbook).toBe("access-key");
  const waiting = await waitForStatus(env.world.db, queued.id, SETTLED);
  const approvedAt = await approve(env, lane, waiting);
  const plan = planOf(waiting);
  await waitForSteps(env, queued.id, plan.map((s) => s.name));
  expect((await waitForStatus(env.world.db, queued.id, SETTLED)).status).toBe("succeeded");
  const runs = await stepRunsOf(env, "access-key", queued.id, plan, READ_ONLY);

  expect((await requestRelease(env.world.db.prisma, lane.queues, queued.id, "erin")).ok).toBe(true);
  const release = await waitForStatus(env.world.db, queued.id, ["awaiting_approval", "failed"]);
  await approve(env, lane, release);
  const releasePlan = planOf(release);
  await waitForSteps(env, queued.id, releasePlan.map((s) => s.name));
  expect((await waitForStatus(env.world.db, queued.id, ["succeeded", "failed"])).status).toBe("succeeded");
  runs.push(...(await stepRunsOf(env, "access-key", queued.id, releasePlan)));
  return Promise.all(runs.map((run) => bindCutoff(env, run, approvedAt)));
}

export const accessKeyScenario: Scenario = {
  playbook: "access-key",

  async run(env) {
    const iam = iamClients(env.world.moto.endpoint);
    const lane = await startLane(env.world, {
      policy: POLICY,
      awsMiddleware: (clients) => {
        env.recorder.install(clients);
      },
    });
    try {
      const userKey = await seedUserKey(iam);
      const role = await seedRoleSession(iam);
      return [...(await containAndRelease(env, lane, userKeyFinding(userKey))), ...(await containAndRelease(env, lane, roleSessionFinding(role)))];
    } finally {
      await lane.stop();
      iam.destroy();
    }
  },
};
