// Issue 8 item 13: never act on a finding GuardDuty does not confirm. The worker asks GuardDuty
// (GetFindings, through the detector the finding names, in the account and region that own it)
// before the first change, compares account, type, resource and severity, and records the check.
//
// moto has no GuardDuty GetFindings: GuardDuty is mocked with aws-sdk-client-mock on the worker's
// own GuardDuty client (gates-support.ts), while EC2, Auto Scaling and ELBv2 stay on moto, where
// the tests read what changed.
import { GuardDutyServiceException } from "@aws-sdk/client-guardduty";
import { approveRemediation, requestRelease } from "@gdr/core/approvals/decide";
import { ecsFinding, setIn, type JsonObject } from "@gdr/samples/findings";
import { loadWorkerConfig } from "@gdr/worker/config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containmentProblems, MOTO_ACCOUNT_ID, remediationRows, spawnTs, viewInstance, waitUntil, type RemediationRow } from "../support/index.js";
import { startReceiver, type Receiver } from "../notify/receiver.js";
import {
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
  type Lane,
} from "./engine-harness.js";
import { asSdkFinding, createCallLog, createMockGuardDuty, type CallLog, type MockGuardDuty } from "./gates-support.js";

const SETTLED = ["succeeded", "failed", "skipped", "escalated", "awaiting_approval", "cancelled"];

let world: EngineWorld;
let lane: Lane;
let slack: Receiver;
const guardduty: MockGuardDuty = createMockGuardDuty();
const log: CallLog = createCallLog();

beforeAll(async () => {
  world = await createEngineWorld();
  slack = await startReceiver();
  // policy/default.yaml: high and critical findings on an instance are contained at once (auto).
  lane = await startLane(world, {
    worker: { WORKER_CONFIRM_FINDINGS: "true", NOTIFY_SLACK_WEBHOOK_URL: `${slack.url}/services/T0/B0/gates` },
    awsMiddleware: (clients) => {
      guardduty.install(clients);
      log.install(clients);
    },
  });
});

afterAll(async () => {
  await world.close();
  await slack.close();
});

function detectorOf(detail: JsonObject): string {
  const id = (detail["service"] as JsonObject)["detectorId"];
  if (typeof id !== "string") throw new Error("the fixture has no service.detectorId");
  return id;
}

/** Sends a finding that GuardDuty holds as `theirs` (or not at all), and waits for the outcome. */
async function run(detail: JsonObject, theirs: JsonObject | null) {
  if (theirs) guardduty.known.set(findingIdOf(detail), asSdkFinding(theirs));
  const seenCalls = log.calls.length;
  await lane.send(detail);
  const queued = await remediationForFinding(world.db, findingIdOf(detail));
  const done = await waitForStatus(world.db, queued.id, SETTLED);
  return { done, calls: () => log.calls.slice(seenCalls) };
}


describe("the confirmation gate", () => {
  it("contains a finding GuardDuty confirms, and records the check (a confirm-finding step and its audit event)", async () => {
    const seeded = await seed(world, { targetGroup: false });
    const detail = findingFor(seeded);
    const { done } = await run(detail, detail);
    expect(done.status).toBe("succeeded");
    expect(containmentProblems(await viewInstance(world.aws, seeded), seeded, { findingId: findingIdOf(detail), remediationId: done.id })).toEqual([]);

    const steps = await stepsOf(world.db, done.id);
    expect(steps.slice(0, 3).map((s) => [s.name, s.status])).toEqual([
      ["identify", "succeeded"],
      ["confirm-finding", "succeeded"],
      ["leave-auto-scaling", "succeeded"],
    ]);
    expect(stepMap(steps).get("confirm-finding")?.output).toMatchObject({
      confirmed: true,
      findingId: findingIdOf(detail),
      detectorId: detectorOf(detail),
      guardduty: { accountId: "123456789012", type: detail["type"], severity: 8, resourceType: "Instance", resourceKey: seeded.instanceId },
    });
    expect(guardduty.requests).toContainEqual({ DetectorId: detectorOf(detail), FindingIds: [findingIdOf(detail)] });
    const audit = await auditOf(world.db, done.id);
    expect(audit.find((a) => a.step === "confirm-finding")).toMatchObject({ action: "step.succeeded", aws_request_ids: [expect.stringMatching(/^gd-/)] });
  });

  it("escalates a finding GuardDuty does not know, changes nothing in AWS, and tells people", async () => {
    const seeded = await seed(world, { targetGroup: false });
    const before = await viewInstance(world.aws, seeded);
    const detail = findingFor(seeded);
    const { done, calls } = await run(detail, null);
    expect(done.status).toBe("escalated");
    expect(done.error).toMatch(/^finding_unverified: GuardDuty detector [0-9a-f]{32} in 123456789012\/us-east-1 does not know finding/);
    expect(await viewInstance(world.aws, seeded)).toEqual(before);
    expect(calls().filter((c) => !/^(ec2|autoscaling|elbv2):(Describe|Get|List)/.test(c))).toEqual([]);
    const steps = stepMap(await stepsOf(world.db, done.id));
    expect(steps.get("confirm-finding")?.output).toMatchObject({ confirmed: false, detectorId: detectorOf(detail) });
    expect(steps.has("leave-auto-scaling")).toBe(false);
    expect((await auditOf(world.db, done.id)).map((a) => a.action)).toContain("finding.unverified");
    expect(await slack.messageAbout(seeded.instanceId, /^Remediation escalated/)).toContain("finding_unverified");
  });

  it("escalates a finding whose type, resource or severity differ from GuardDuty's, or that GuardDuty holds archived, changing nothing", async () => {
    const cases: { label: string; edit: (theirs: JsonObject) => void; expected: RegExp }[] = [
      { label: "type", edit: (t) => setIn(t, ["type"], "Recon:EC2/PortProbeUnprotectedPort"), expected: /type: GuardDuty says Recon:EC2\/PortProbeUnprotectedPort/ },
      {
        label: "resource",
        edit: (t) => setIn(t, ["resource", "instanceDetails", "instanceId"], "i-0fedcba9876543210"),
        expected: /resource: GuardDuty names i-0fedcba9876543210/,
      },
      // The message claims 8 (high: contained at once); GuardDuty rates it 5 (medium: a person decides).
      { label: "severity", edit: (t) => setIn(t, ["severity"], 5), expected: /severity: the stored finding says 8, more than GuardDuty's 5/ },
      // Archived at GuardDuty (by a person, or the queue carried a forged archived version first).
      { label: "archived", edit: (t) => setIn(t, ["service", "archived"], true), expected: /GuardDuty holds finding [0-9a-f]+ archived/ },
    ];
    for (const c of cases) {
      const seeded = await seed(world, { autoScaling: false, targetGroup: false });
      const before = await viewInstance(world.aws, seeded);
      const detail = findingFor(seeded);
      const theirs = structuredClone(detail);
      c.edit(theirs);
      const { done, calls } = await run(detail, theirs);
      expect(done.status, c.label).toBe("escalated");
      expect(done.error, c.label).toMatch(c.expected);
      expect(await viewInstance(world.aws, seeded), c.label).toEqual(before);
      expect(calls().filter((call) => !/^(ec2|autoscaling|elbv2):(Describe|Get|List)/.test(call)), c.label).toEqual([]);
    }
  });

  it("fails the remediation with GuardDuty's error code when GetFindings is denied, changing nothing", async () => {
    const seeded = await seed(world, { autoScaling: false, targetGroup: false });
    const before = await viewInstance(world.aws, seeded);
    guardduty.failWith = new GuardDutyServiceException({ name: "AccessDeniedException", $fault: "client", message: "not authorized to perform guardduty:GetFindings", $metadata: { httpStatusCode: 403 } });
    try {
      const { done } = await run(findingFor(seeded), null);
      expect(done.status).toBe("failed");
      expect(done.error).toMatch(/^confirm-finding: AccessDeniedException/);
      expect(await viewInstance(world.aws, seeded)).toEqual(before);
    } finally {
      guardduty.failWith = null;
    }
  });
});

describe("the confirmation gate after containment", () => {
  it("ends a continuation GuardDuty does not confirm failed, not escalated: the contained instance stays releasable", async () => {
    // Contained while confirmation was off; the termination waits for its own approval.
    const own = await startLane(world, { worker: { WORKER_INSTANCE_TERMINATE: "true" } });
    try {
      const seeded = await seed(world, { targetGroup: false });
      const detail = findingFor(seeded);
      await own.send(detail);
      const queued = await remediationForFinding(world.db, findingIdOf(detail));
      const waiting = await waitForStatus(world.db, queued.id, SETTLED);
      expect(waiting.status).toBe("awaiting_approval");
      const contained = await viewInstance(world.aws, seeded);

      // Confirmation is turned on; GuardDuty does not know the finding.
      const unknown = createMockGuardDuty();
      await own.restartWorker({ WORKER_INSTANCE_TERMINATE: "true", WORKER_CONFIRM_FINDINGS: "true" }, (clients) => {
        unknown.install(clients);
      });
      const decision = await approveRemediation(world.db.prisma, own.queues, { remediationId: queued.id, actor: "token:dave", reason: "terminate it", planHash: waiting.plan_hash ?? "" });
      expect(decision.ok).toBe(true);
      const done = await waitForStatus(world.db, queued.id, ["failed", "escalated", "succeeded", "cancelled"]);
      expect(done.status).toBe("failed");
      expect(done.error).toMatch(/^finding_unverified: /);
      expect(await viewInstance(world.aws, seeded)).toEqual(contained);
      expect((await auditOf(world.db, queued.id)).map((a) => a.action)).toContain("finding.unverified");
      expect(await requestRelease(world.db.prisma, own.queues, queued.id, "token:frank")).toMatchObject({ ok: true });
    } finally {
      await own.stop();
    }
  });
});

describe("a destructive step approved long after containment", () => {
  it("is confirmed with GuardDuty again before it runs: archived meanwhile, nothing is terminated and the instance stays contained and releasable", async () => {
    const gd = createMockGuardDuty();
    const own = await startLane(world, {
      worker: { WORKER_INSTANCE_TERMINATE: "true", WORKER_CONFIRM_FINDINGS: "true" },
      awsMiddleware: (clients) => {
        gd.install(clients);
      },
    });
    try {
      const seeded = await seed(world, { targetGroup: false });
      const detail = findingFor(seeded);
      gd.known.set(findingIdOf(detail), asSdkFinding(detail));
      await own.send(detail);
      const queued = await remediationForFinding(world.db, findingIdOf(detail));
      const waiting = await waitForStatus(world.db, queued.id, SETTLED);
      expect(waiting.status).toBe("awaiting_approval");
      // Asked once for containment, and again before the termination plan was frozen.
      const statuses = Object.fromEntries([...stepMap(await stepsOf(world.db, queued.id))].map(([name, row]) => [name, row.status]));
      expect(statuses).toMatchObject({ "confirm-finding": "succeeded", "confirm-finding-before-terminate": "succeeded", terminate: "awaiting_approval" });
      const contained = await viewInstance(world.aws, seeded);

      // A person closes the finding as a false positive at GuardDuty; later someone approves the termination.
      const archived = structuredClone(detail);
      setIn(archived, ["service", "archived"], true);
      gd.known.set(findingIdOf(detail), asSdkFinding(archived));
      const decision = await approveRemediation(world.db.prisma, own.queues, { remediationId: queued.id, actor: "token:dave", reason: "terminate it", planHash: waiting.plan_hash ?? "" });
      expect(decision.ok).toBe(true);
      const done = await waitForStatus(world.db, queued.id, ["failed", "escalated", "succeeded", "cancelled"]);
      expect(done.status).toBe("failed");
      expect(done.error).toMatch(/^finding_unverified: .*archived/);
      expect(await viewInstance(world.aws, seeded)).toEqual(contained);
      expect(await requestRelease(world.db.prisma, own.queues, queued.id, "token:frank")).toMatchObject({ ok: true });
    } finally {
      await own.stop();
    }
  });
});

describe("WORKER_CONFIRM_FINDINGS", () => {
  const base = { DATABASE_URL: "postgresql://u@h/db", REDIS_URL: "redis://h:6379", AWS_REGION: "us-east-1" };

  it("turned off against AWS (no AWS_ENDPOINT_URL), the worker refuses to start: exit 2 with the reason", async () => {
    // An empty value reads as unset (parseConfig), whatever this process's environment holds.
    const child = spawnTs("services/worker/src/main.ts", { ...base, AWS_ENDPOINT_URL: "", WORKER_CONFIRM_FINDINGS: "false" });
    const exit = await child.exited;
    expect(exit.code, child.output()).toBe(2);
    expect(child.output()).toMatch(/WORKER_CONFIRM_FINDINGS: may be false only against an emulator/);
  });


  // The warning a worker logs at start when it is off (against moto) is checked in gates-allow-list.test.ts.
  it("is on by default, and turning it off without an emulator endpoint is a configuration error", () => {
    expect(loadWorkerConfig(base).WORKER_CONFIRM_FINDINGS).toBe(true);
    expect(() => loadWorkerConfig({ ...base, WORKER_CONFIRM_FINDINGS: "false" })).toThrow(/WORKER_CONFIRM_FINDINGS: may be false only against an emulator/);
    expect(loadWorkerConfig({ ...base, WORKER_CONFIRM_FINDINGS: "false", AWS_ENDPOINT_URL: "http://127.0.0.1:5000" }).WORKER_CONFIRM_FINDINGS).toBe(false);
  });
});

describe("the confirmation gate before a heavy read", () => {
  it("asks GuardDuty before the image playbook hunts every cluster: a finding GuardDuty does not hold costs no ECS read", async () => {
    // An image-borne malicious file on a task: the shipped policy adds the image remediation.
    const detail = ecsFinding({ accountId: MOTO_ACCOUNT_ID, severity: 8 });
    setIn(detail, ["type"], "Execution:Runtime/MaliciousFileExecuted");
    const seenCalls = log.calls.length;
    await lane.send(detail);
    let image: RemediationRow | undefined;
    await waitUntil(
      async () => {
        image = (await remediationRows(world.db, { findingId: findingIdOf(detail) })).find((r) => r.playbook === "container-image");
        return image !== undefined;
      },
      { attempts: 150, what: "the image remediation" },
    );
    if (!image) throw new Error("unreachable");
    const done = await waitForStatus(world.db, image.id, SETTLED);
    expect(done.status).toBe("escalated");
    expect(done.error).toMatch(/^finding_unverified: /);
    // The check is on record for the image remediation (GuardDuty is mocked, so the call log
    // does not see GetFindings), and the hunt (ListClusters, ListTasks, ...) never started. The
    // log does see ECS: the task's own remediation looked its task up.
    expect((await stepsOf(world.db, image.id)).map((s) => [s.name, s.status])).toEqual([
      ["resolve-image", "succeeded"],
      ["confirm-finding", "succeeded"],
    ]);
    await waitForStatus(world.db, (await remediationForFinding(world.db, findingIdOf(detail))).id, SETTLED);
    const sent = log.calls.slice(seenCalls);
    expect(sent).toContain("ecs:DescribeTasks");
    expect(sent.filter((c) => c === "ecs:ListClusters")).toEqual([]);
  });
});
