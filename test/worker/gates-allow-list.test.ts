// Issue 8 item 4 (worker half): the allow list holds everywhere. Seen: with an account removed from
// the policy's accounts.allow, approving an existing plan in that account still terminated an
// instance. The worker checks the account against its loaded policy before every step that changes
// anything (and before it would ask a person to approve changes); refused work ends with the
// reason, recorded and notified, and no changing call reaches AWS (moto).
import { approveRemediation, requestRelease } from "@gdr/core/approvals/decide";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containmentProblems, viewInstance } from "../support/index.js";
import { startReceiver, type Receiver } from "../notify/receiver.js";
import {
  ACCOUNT,
  auditOf,
  createEngineWorld,
  findingFor,
  findingIdOf,
  remediationForFinding,
  seed,
  startLane,
  stepMap,
  stepsOf,
  waitForStatus,
  type EngineWorld,
} from "./engine-harness.js";
import { createCallLog, policyAllowing, policyFile } from "./gates-support.js";

const SETTLED = ["succeeded", "failed", "skipped", "escalated", "awaiting_approval", "cancelled"];
const RULES = ["{ name: high-auto, match: { severity: [high, critical] }, mode: auto }", "{ name: medium-approval, match: { severity: medium }, mode: approval }"];
/** The policy before: this account is allowed. */
const ALLOWING = policyAllowing([ACCOUNT], RULES);
/** The policy after an operator took the account off the list. */
const WITHOUT_ACCOUNT = policyFile(policyAllowing(["111122223333"], RULES));

let world: EngineWorld;
let slack: Receiver;

beforeAll(async () => {
  world = await createEngineWorld();
  slack = await startReceiver();
});

afterAll(async () => {
  await world.close();
  await slack.close();
});

const notifyEnv = (): Record<string, string> => ({ NOTIFY_SLACK_WEBHOOK_URL: `${slack.url}/services/T0/B0/allow` });


describe("an account taken off the allow list", () => {
  it("cancels queued work in it with the reason and a notification, and no changing call reaches AWS", async () => {
    // Ingest accepts the finding under the old policy; no worker runs yet, so the job waits.
    const lane = await startLane(world, { policy: ALLOWING, worker: false });
    try {
      const seeded = await seed(world);
      const before = await viewInstance(world.aws, seeded);
      const detail = findingFor(seeded, { severity: 8 });
      await lane.send(detail);
      const queued = await remediationForFinding(world.db, findingIdOf(detail));
      expect(queued.status).toBe("queued");

      // The worker starts with the new policy.
      const log = createCallLog();
      const worker = await lane.restartWorker({ ...notifyEnv(), POLICY_FILE: WITHOUT_ACCOUNT }, (clients) => {
        log.install(clients);
      });
      // Against moto the GuardDuty confirmation is off (the harness): the worker says so at start.
      const warning = await worker.logs.waitFor((l) => typeof l.msg === "string" && l.msg.startsWith("WORKER_CONFIRM_FINDINGS=false"), "the start-up warning");
      expect(warning.level).toBe(40);
      const done = await waitForStatus(world.db, queued.id, SETTLED);
      expect(done.status).toBe("cancelled");
      expect(done.error).toBe(`account_not_allowed: account ${ACCOUNT} is not in the policy's accounts.allow`);
      expect(log.changing()).toEqual([]);
      expect(await viewInstance(world.aws, seeded)).toEqual(before);
      // Only the read-only step ran; the refusal is on record with the step it stopped.
      expect((await stepsOf(world.db, queued.id)).map((s) => [s.name, s.status])).toEqual([["identify", "succeeded"]]);
      const refused = (await auditOf(world.db, queued.id)).filter((a) => a.action === "remediation.refused");
      expect(refused).toEqual([expect.objectContaining({ actor: "worker", step: "leave-auto-scaling" })]);
      expect(await slack.messageAbout(seeded.instanceId, /^Remediation cancelled/)).toContain("account_not_allowed");
    } finally {
      await lane.stop();
    }
  });

  it("refuses an approved termination plan in it: the instance stays contained and running, nothing changes, people are told; the remediation ends failed after containment, so it can still be released", async () => {
    const lane = await startLane(world, { policy: ALLOWING, worker: { WORKER_INSTANCE_TERMINATE: "true", POLICY_FILE: policyFile(ALLOWING) } });
    try {
      const seeded = await seed(world, { targetGroup: false });
      const detail = findingFor(seeded, { severity: 8 });
      const findingId = findingIdOf(detail);
      await lane.send(detail);
      const queued = await remediationForFinding(world.db, findingId);
      // Contained, the termination waits for its own approval.
      const waiting = await waitForStatus(world.db, queued.id, SETTLED);
      expect(waiting.status).toBe("awaiting_approval");
      expect(waiting.plan).toMatchObject({ steps: [{ name: "terminate" }] });
      const contained = await viewInstance(world.aws, seeded);
      expect(containmentProblems(contained, seeded, { findingId, remediationId: queued.id })).toEqual([]);

      // The operator takes the account off the list (the worker restarts with the new policy),
      // then someone approves the plan that was already waiting.
      const log = createCallLog();
      await lane.restartWorker({ ...notifyEnv(), WORKER_INSTANCE_TERMINATE: "true", POLICY_FILE: WITHOUT_ACCOUNT }, (clients) => {
        log.install(clients);
      });
      const decision = await approveRemediation(world.db.prisma, lane.queues, { remediationId: queued.id, actor: "token:dave", reason: "terminate it", planHash: waiting.plan_hash ?? "" });
      expect(decision.ok).toBe(true);
      const done = await waitForStatus(world.db, queued.id, ["cancelled", "succeeded", "failed"]);
      // Not cancelled: past containment, a cancelled remediation could never be released.
      expect(done.status).toBe("failed");
      expect(done.error).toMatch(/^account_not_allowed: /);

      expect(log.changing()).toEqual([]);
      const after = await viewInstance(world.aws, seeded);
      expect(after.state).toBe("running");
      expect(after).toEqual(contained);
      expect(stepMap(await stepsOf(world.db, queued.id)).get("terminate")?.status).toBe("pending");
      expect((await auditOf(world.db, queued.id)).filter((a) => a.action === "remediation.refused")).toEqual([
        expect.objectContaining({ step: "terminate" }),
      ]);
      expect(await slack.messageAbout(seeded.instanceId, /^Remediation failed/)).toContain("account_not_allowed");
      // The contained instance is not stranded: a person can still ask for its release.
      expect(await requestRelease(world.db.prisma, lane.queues, queued.id, "token:frank")).toMatchObject({ ok: true });
    } finally {
      await lane.stop();
    }
  });

  it("refuses a release in it before anything changes: the instance stays contained, on record as succeeded", async () => {
    const lane = await startLane(world, { policy: ALLOWING, worker: { POLICY_FILE: policyFile(ALLOWING) } });
    try {
      const seeded = await seed(world, { targetGroup: false });
      const detail = findingFor(seeded, { severity: 8 });
      await lane.send(detail);
      const queued = await remediationForFinding(world.db, findingIdOf(detail));
      expect((await waitForStatus(world.db, queued.id, SETTLED)).status).toBe("succeeded");
      const contained = await viewInstance(world.aws, seeded);

      const log = createCallLog();
      await lane.restartWorker({ ...notifyEnv(), POLICY_FILE: WITHOUT_ACCOUNT }, (clients) => {
        log.install(clients);
      });
      expect((await requestRelease(world.db.prisma, lane.queues, queued.id, "token:frank")).ok).toBe(true);
      const note = await slack.messageAbout(seeded.instanceId, /^Remediation cancelled/);
      expect(note).toContain("release refused; the resource stays contained");
      // No release plan was frozen for a person to approve, nothing changed, the record says contained.
      expect((await waitForStatus(world.db, queued.id, SETTLED)).status).toBe("succeeded");
      expect((await auditOf(world.db, queued.id)).filter((a) => a.action === "remediation.refused")).toEqual([
        expect.objectContaining({ step: "restore-groups" }),
      ]);
      expect(log.changing()).toEqual([]);
      expect(await viewInstance(world.aws, seeded)).toEqual(contained);
    } finally {
      await lane.stop();
    }
  });
});
