// AWS errors raised outside a step: while the runner freezes a plan for a person (each step's
// plan() reads live state: DescribeNetworkInterfaces, DescribeSecurityGroups; identify reads the
// network interfaces too, so the refused read here is the isolation group lookup). They are classified
// like a step's errors: a denied read fails the remediation with its code at once, instead of
// being retried by BullMQ attempt after attempt. moto never refuses a call: the refusal is
// injected into the worker's own EC2 client (test/support/aws-faults.ts).
import { EC2ServiceException } from "@aws-sdk/client-ec2";
import type { AwsClients } from "@gdr/core/aws/clients";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestRelease } from "@gdr/core/approvals/decide";
import { startReceiver, type Receiver } from "../notify/receiver.js";
import { injectFaults, type FaultHandle } from "../support/aws-faults.js";
import { viewInstance, waitUntil } from "../support/index.js";
import {
  ACCOUNT,
  auditOf,
  createEngineWorld,
  findingFor,
  findingIdOf,
  remediationForFinding,
  seed,
  startLane,
  stepsOf,
  waitForStatus,
  type EngineWorld,
} from "./engine-harness.js";
import { policyAllowing, policyFile } from "./gates-support.js";

const SETTLED = ["succeeded", "failed", "awaiting_approval", "cancelled", "escalated"];
/** Medium findings wait for a person (the worker freezes a plan after identify); high ones are contained at once. */
const APPROVAL = policyAllowing([ACCOUNT], [
  "{ name: medium-approval, match: { severity: medium }, mode: approval }",
  "{ name: high-auto, match: { severity: [high, critical] }, mode: auto }",
]);

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

/** The worker's EC2 client refuses every call of `operation` (UnauthorizedOperation, 403). */
function denying(operation: string): { middleware: (clients: AwsClients) => void; injected: () => number } {
  let faults: FaultHandle | undefined;
  return {
    middleware: (clients) => {
      faults = injectFaults(clients.ec2, [{ operation, times: 1_000, name: "UnauthorizedOperation", httpStatus: 403, errorClass: EC2ServiceException }]);
    },
    injected: () => faults?.injected(operation) ?? 0,
  };
}

describe("an AWS error while freezing an approval plan", () => {
  it("fails the remediation with the AWS code after one attempt (access denied is not retried), and freezes no plan", async () => {
    const deny = denying("DescribeSecurityGroups");
    const lane = await startLane(world, { policy: APPROVAL, worker: { POLICY_FILE: policyFile(APPROVAL) }, awsMiddleware: deny.middleware });
    try {
      const seeded = await seed(world, { autoScaling: false, targetGroup: false });
      const before = await viewInstance(world.aws, seeded);
      const detail = findingFor(seeded, { severity: 5 });
      await lane.send(detail);
      const r = await remediationForFinding(world.db, findingIdOf(detail));

      const done = await waitForStatus(world.db, r.id, SETTLED);
      expect(done.status).toBe("failed");
      expect(done.error).toMatch(/^plan \(leave-auto-scaling\): UnauthorizedOperation: /);
      expect(done.plan).toBeNull();
      // The plan build met the refusal once: it was not built again by later attempts.
      expect(deny.injected()).toBe(1);
      const [job] = (await lane.jobs()).filter((j) => j.id === r.job_id);
      await waitUntil(async () => (await job?.getState()) === "failed", { attempts: 50, what: "the BullMQ job to be failed" });
      const failed = await lane.queues.get("instance")?.getJob(r.job_id);
      expect(failed?.attemptsMade).toBe(1);
      expect(failed?.opts.attempts).toBeGreaterThan(1);

      const setup = (await auditOf(world.db, r.id)).filter((a) => a.action === "remediation.setup_failed");
      expect(setup).toEqual([expect.objectContaining({ actor: "worker", step: "leave-auto-scaling", code: "UnauthorizedOperation" })]);
      // Only identify ran; nothing changed in AWS.
      expect((await stepsOf(world.db, r.id)).map((s) => [s.name, s.status])).toEqual([["identify", "succeeded"]]);
      expect(await viewInstance(world.aws, seeded)).toEqual(before);
    } finally {
      await lane.stop();
    }
  });

  it("keeps a contained remediation on record as succeeded when its release plan cannot be read, says why (audit, notification), and does not retry", async () => {
    const lane = await startLane(world, { policy: APPROVAL, worker: { POLICY_FILE: policyFile(APPROVAL) } });
    try {
      const seeded = await seed(world, { autoScaling: false, targetGroup: false });
      const detail = findingFor(seeded, { severity: 8 }); // high: contained without asking
      await lane.send(detail);
      const r = await remediationForFinding(world.db, findingIdOf(detail));
      expect((await waitForStatus(world.db, r.id, SETTLED)).status).toBe("succeeded");
      const contained = await viewInstance(world.aws, seeded);

      // The release plan reads the live network interfaces (restore-groups); the role may not.
      const deny = denying("DescribeNetworkInterfaces");
      await lane.restartWorker({ POLICY_FILE: policyFile(APPROVAL), NOTIFY_SLACK_WEBHOOK_URL: `${slack.url}/services/T0/B0/plan` }, deny.middleware);
      const asked = await requestRelease(world.db.prisma, lane.queues, r.id, "token:erin");
      if (!asked.ok || !asked.jobId) throw new Error("the release was not enqueued");
      const jobId = asked.jobId;

      const release = await lane.queues.get("instance")?.getJob(jobId);
      await waitUntil(async () => (await release?.getState()) === "failed", { attempts: 100, what: "the release job to be failed" });
      const failed = await lane.queues.get("instance")?.getJob(jobId);
      expect(failed?.attemptsMade).toBe(1);
      expect(failed?.failedReason).toMatch(/^release not planned: plan \(.+\): UnauthorizedOperation: .*the resource stays contained$/);
      expect(deny.injected()).toBe(1);

      const after = await waitForStatus(world.db, r.id, SETTLED);
      expect(after.status).toBe("succeeded");
      const setup = (await auditOf(world.db, r.id)).filter((a) => a.action === "remediation.setup_failed");
      expect(setup).toEqual([expect.objectContaining({ actor: "worker", code: "UnauthorizedOperation" })]);
      await slack.waitFor(1);
      expect(slack.requests.map((q) => JSON.stringify(q.body)).find((b) => b.includes(seeded.instanceId) && b.includes("release not planned"))).toMatch(/Remediation failed/);
      expect(await viewInstance(world.aws, seeded)).toEqual(contained);
    } finally {
      await lane.stop();
    }
  });
});
