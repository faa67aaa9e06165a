// Faults the engine must ride out or stop at, through the real worker service: AWS throttling
// (injected into the worker's own EC2 client: moto never throttles), access denied, the kill
// switch and the isolations-per-minute cap.
import { EC2ServiceException } from "@aws-sdk/client-ec2";
import { approveRemediation, rejectRemediation, requestRelease } from "@gdr/core/approvals/decide";
import type { AwsClients } from "@gdr/core/aws/clients";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { injectFaults, type FaultHandle, type FaultSpec } from "../support/aws-faults.js";
import {
  seedVpc,
  waitUntil,
  type SeededInstance,
  containmentProblems,
  seededEnis,
  viewInstance,
} from "../support/index.js";
import {
  CONTAINMENT_STEPS,
  auditOf,
  createEngineWorld,
  createGate,
  findingFor,
  findingIdOf,
  metricValue,
  remediation,
  remediationForFinding,
  seed,
  startLane,
  stepMap,
  stepsOf,
  waitForStatus,
  type EngineWorld,
  type LogLine,
  type RemediationRow,
} from "./engine-harness.js";

const SETTLED = ["succeeded", "failed", "skipped", "dry_run", "awaiting_approval", "rejected"];

let world: EngineWorld;

beforeAll(async () => {
  world = await createEngineWorld();
});

afterAll(async () => {
  await world.close();
});

/** Faults on the EC2 client of the worker's (one) client set, in place once the worker builds it. */
function ec2Faults(plan: readonly FaultSpec[]): { middleware: (clients: AwsClients) => void; handle: () => FaultHandle } {
  let handle: FaultHandle | undefined;
  return {
    middleware: (clients) => {
      handle = injectFaults(clients.ec2, plan);
    },
    handle: () => {
      if (!handle) throw new Error("the worker built no AWS clients");
      return handle;
    },
  };
}

const postponed = (why: string, jobId?: string) => (l: LogLine) =>
  l.msg === "remediation postponed" && l["why"] === why && (jobId === undefined || l["jobId"] === jobId);

/** A lane with this EC2 fault injected, and one finding (on an instance of its own) through it, settled. */
async function faultedRun(spec: FaultSpec) {
  const faults = ec2Faults([spec]);
  const lane = await startLane(world, { awsMiddleware: faults.middleware });
  const seeded = await seed(world, { autoScaling: false, targetGroup: false });
  const detail = findingFor(seeded);
  await lane.send(detail);
  const r = await remediationForFinding(world.db, findingIdOf(detail));
  const done = await waitForStatus(world.db, r.id, SETTLED);
  return { faults, lane, seeded, r, done };
}

describe("AWS throttling", () => {
  it("is retried: the step takes a second attempt, the queue slows down, containment completes", async () => {
    const { faults, lane, seeded, r, done } = await faultedRun({
      operation: "ModifyNetworkInterfaceAttribute",
      times: 3,
      name: "RequestLimitExceeded",
      httpStatus: 503,
      errorClass: EC2ServiceException,
    });
    expect(done.status).toBe("succeeded");

    // The SDK's own 3 attempts met the 3 faults; the engine's second attempt of the step passed.
    expect(faults.handle().injected("ModifyNetworkInterfaceAttribute")).toBe(3);
    const steps = stepMap(await stepsOf(world.db, r.id));
    expect(steps.get("isolate")).toMatchObject({ status: "succeeded", attempts: 2, error_code: null });
    for (const name of CONTAINMENT_STEPS.filter((n) => n !== "isolate")) expect(steps.get(name)?.attempts, name).toBe(1);
    const audit = (await auditOf(world.db, r.id)).filter((a) => a.step === "isolate");
    expect(audit.map((a) => [a.action, a.code])).toEqual([
      ["step.retrying", "RequestLimitExceeded"],
      ["step.succeeded", null],
    ]);
    expect(audit[0]?.aws_request_ids.length).toBeGreaterThan(0);

    expect(containmentProblems(await viewInstance(world.aws, seeded), seeded, { findingId: r.finding_id, remediationId: r.id })).toEqual([]);
    const worker = lane.worker;
    if (!worker) throw new Error("lane without worker");
    await worker.logs.waitFor((l) => l.msg === "AWS throttled: slowing the queue", "the queue slowed down");
    const metrics = await worker.metrics();
    expect(metricValue(metrics, "gdr_worker_step_retries_total", { step: "isolate" })).toBe(1);
    expect(metricValue(metrics, "gdr_worker_failures_total", { error: "throttled" })).toBe(1);
    expect(metricValue(metrics, "gdr_worker_jobs_total", { outcome: "succeeded" })).toBe(1);
    await lane.stop();
  });
});

/** A lane whose every `operation` call is refused (UnauthorizedOperation), and one finding through it, settled. */
function deniedRun(operation: string) {
  return faultedRun({ operation, times: 1_000, name: "UnauthorizedOperation", httpStatus: 403, errorClass: EC2ServiceException });
}

describe("access denied", () => {
  it("fails fast: the step and the remediation failed with the AWS code, the job failed without retries", async () => {
    const { faults, lane, seeded, r, done } = await deniedRun("CreateSnapshot");
    expect(done.status).toBe("failed");
    expect(done.error).toMatch(/^snapshot-volumes: UnauthorizedOperation: /);

    expect(faults.handle().injected("CreateSnapshot")).toBe(1);
    const steps = await stepsOf(world.db, r.id);
    expect(steps.map((s) => [s.name, s.status])).toEqual([
      ["identify", "succeeded"],
      ["leave-auto-scaling", "skipped"], // not in an Auto Scaling group
      ["isolate", "succeeded"],
      ["protect-evidence", "succeeded"],
      ["leave-target-groups", "skipped"], // in no target group
      ["tag", "succeeded"],
      ["snapshot-volumes", "failed"],
    ]);
    expect(steps.at(-1)).toMatchObject({ attempts: 1, error_class: "fatal", error_code: "UnauthorizedOperation" });
    const audit = await auditOf(world.db, r.id);
    expect(audit.filter((a) => a.action === "step.failed").map((a) => [a.step, a.code])).toEqual([["snapshot-volumes", "UnauthorizedOperation"]]);
    expect(audit.filter((a) => a.action === "step.retrying")).toEqual([]);

    const worker = lane.worker;
    if (!worker) throw new Error("lane without worker");
    // snapshot-volumes runs in the evidence job the containing job handed over to.
    const evidenceJobId = `${r.job_id}-evidence`;
    const [job] = (await lane.jobs()).filter((j) => j.id === evidenceJobId);
    await waitUntil(async () => (await job?.getState()) === "failed", { attempts: 50, what: "the BullMQ evidence job to be failed" });
    const failed = await lane.queues.get("instance")?.getJob(evidenceJobId);
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.opts.attempts).toBeGreaterThan(1); // retries were there to use, and were not
    expect(failed?.failedReason).toMatch(/UnauthorizedOperation/);
    const metrics = await worker.metrics();
    expect(metricValue(metrics, "gdr_worker_jobs_total", { outcome: "failed" })).toBe(1);
    expect(metricValue(metrics, "gdr_worker_failures_total", { error: "access_denied" })).toBe(1);
    expect((await viewInstance(world.aws, seeded)).snapshots).toEqual([]);
    await lane.stop();
  });

  it("leaves a remediation that failed after containment releasable: declined, it is failed again; approved, the instance is restored", async () => {
    const { lane, seeded, r, done: failed } = await deniedRun("CreateSnapshot");
    try {
      expect(failed.status).toBe("failed");
      // Isolated all the same (the failure came after containment), with no snapshot.
      const isolated = await viewInstance(world.aws, seeded);
      const [group] = isolated.isolationGroups;
      expect(isolated.enis.map((e) => e.groupIds)).toEqual(isolated.enis.map(() => [group?.id]));
      expect(isolated.snapshots).toEqual([]);

      const release = async (): Promise<RemediationRow> => {
        expect(await requestRelease(world.db.prisma, lane.queues, r.id, "erin")).toMatchObject({ ok: true });
        const waiting = await waitForStatus(world.db, r.id, ["awaiting_approval"]);
        expect(waiting.plan).toMatchObject({ action: "release", releaseFrom: "failed" });
        return waiting;
      };
      const first = await release();
      expect(await rejectRemediation(world.db.prisma, { remediationId: r.id, actor: "carol", reason: "not yet", planHash: first.plan_hash ?? "" })).toMatchObject({ ok: true });
      // Back as it was: failed, with its own error, still isolated.
      expect(await remediation(world.db, r.id)).toMatchObject({ status: "failed", error: failed.error });

      const second = await release();
      expect(await approveRemediation(world.db.prisma, lane.queues, { remediationId: r.id, actor: "frank", reason: "false positive", planHash: second.plan_hash ?? "" })).toMatchObject({ ok: true });
      expect((await waitForStatus(world.db, r.id, ["succeeded", "failed"])).status).toBe("succeeded");
      expect((await viewInstance(world.aws, seeded)).enis).toEqual(seededEnis(seeded));
    } finally {
      await lane.stop();
    }
  });

  it("refuses to release a failed remediation that never contained anything", async () => {
    const { lane, r, done } = await deniedRun("CreateSecurityGroup");
    try {
      expect(done.status).toBe("failed");
      expect(stepMap(await stepsOf(world.db, r.id)).get("isolate")?.status).toBe("failed");
      expect(await requestRelease(world.db.prisma, lane.queues, r.id, "erin")).toMatchObject({ ok: false, error: "not_awaiting_approval" });
    } finally {
      await lane.stop();
    }
  });
});

describe("the kill switch", () => {
  it("holds a job back before its first step while paused; resumed, it completes", async () => {
    const lane = await startLane(world);
    const worker = lane.worker;
    if (!worker) throw new Error("lane without worker");
    await worker.service.limits.pause.pause("oncall", "investigating a bad deploy");
    const seeded = await seed(world);
    const before = await viewInstance(world.aws, seeded);
    const detail = findingFor(seeded);
    await lane.send(detail);
    const r = await remediationForFinding(world.db, findingIdOf(detail));

    // The job came up three times and was put back each time, without touching anything.
    await waitUntil(() => worker.logs.count(postponed("paused", r.job_id)) >= 3, { attempts: 100, what: "three postponements" });
    expect(await stepsOf(world.db, r.id)).toEqual([]);
    expect((await remediation(world.db, r.id)).status).toBe("queued");
    expect(await viewInstance(world.aws, seeded)).toEqual(before);

    await worker.service.limits.pause.resume("oncall");
    expect((await waitForStatus(world.db, r.id, SETTLED)).status).toBe("succeeded");
    expect(containmentProblems(await viewInstance(world.aws, seeded), seeded, { findingId: r.finding_id, remediationId: r.id })).toEqual([]);
    for (const s of await stepsOf(world.db, r.id)) expect(s.attempts, s.name).toBe(1);
    await lane.stop();
  });

  it("takes effect between steps: the running step finishes, the next one waits for resume", async () => {
    const gate = createGate("ModifyInstanceAttribute");
    const lane = await startLane(world, { awsMiddleware: (clients) => { gate.install(clients.ec2); } });
    const worker = lane.worker;
    if (!worker) throw new Error("lane without worker");
    const seeded = await seed(world, { autoScaling: false });
    const detail = findingFor(seeded);
    await lane.send(detail);
    const r = await remediationForFinding(world.db, findingIdOf(detail));

    await gate.arrived; // protect-evidence is acting
    await worker.service.limits.pause.pause("oncall", "stop everything");
    gate.release();
    // protect-evidence runs in the evidence job the containing job handed over to.
    await worker.logs.waitFor(postponed("paused", `${r.job_id}-evidence`), "the job postponed mid-playbook");
    const paused = stepMap(await stepsOf(world.db, r.id));
    expect(paused.get("protect-evidence")?.status).toBe("succeeded");
    expect(paused.has("leave-target-groups")).toBe(false);
    expect((await viewInstance(world.aws, seeded)).registered).toEqual([`${seeded.instanceId}:${seeded.targetPort}`]);

    await worker.service.limits.pause.resume("oncall");
    expect((await waitForStatus(world.db, r.id, SETTLED)).status).toBe("succeeded");
    expect(containmentProblems(await viewInstance(world.aws, seeded), seeded, { findingId: r.finding_id, remediationId: r.id })).toEqual([]);
    for (const s of await stepsOf(world.db, r.id)) expect(s.attempts, s.name).toBe(1);
    await lane.stop();
  });
});

describe("the isolation cap", () => {
  it("isolates one instance per minute at 1/minute; the others wait, postponed, not failed", async () => {
    const lane = await startLane(world, { worker: { WORKER_ISOLATIONS_PER_MINUTE: "1" } });
    const worker = lane.worker;
    if (!worker) throw new Error("lane without worker");
    const vpc = await seedVpc(world.aws);
    const instances: SeededInstance[] = [];
    for (let i = 0; i < 3; i++) instances.push(await seed(world, { vpc, autoScaling: false, targetGroup: false }));
    const details = instances.map((i) => findingFor(i));
    await Promise.all(details.map((d) => lane.send(d)));
    const rows: RemediationRow[] = await Promise.all(details.map((d) => remediationForFinding(world.db, findingIdOf(d))));

    // One isolates; the other two reach isolate and are put back for the rest of the minute.
    await waitUntil(
      async () => {
        const statuses = await Promise.all(rows.map(async (r) => (await remediation(world.db, r.id)).status));
        const waiting = rows.filter((r) => worker.logs.count(postponed("isolation_cap", r.job_id)) > 0);
        return statuses.filter((s) => s === "succeeded").length === 1 && waiting.length === 2;
      },
      { attempts: 200, what: "one isolated and two postponed by the cap" },
    );
    const done = [];
    const held = [];
    for (const [i, r] of rows.entries()) {
      const row = await remediation(world.db, r.id);
      const seeded = instances[i];
      if (!seeded) throw new Error("unreachable");
      const steps = stepMap(await stepsOf(world.db, r.id));
      if (row.status === "succeeded") {
        done.push(r.id);
        expect(containmentProblems(await viewInstance(world.aws, seeded), seeded, { findingId: r.finding_id, remediationId: r.id })).toEqual([]);
        continue;
      }
      held.push(r.id);
      expect(row.status).toBe("running");
      expect(steps.get("isolate")?.status).not.toBe("succeeded");
      expect([...steps.values()].filter((s) => s.status === "failed")).toEqual([]);
      expect((await viewInstance(world.aws, seeded)).enis).toEqual(seededEnis(seeded));
      const [job] = (await lane.jobs()).filter((j) => j.data.remediationId === r.id);
      expect(await job?.getState()).toBe("delayed");
    }
    expect(done).toHaveLength(1);
    expect(held).toHaveLength(2);
    // The cap's sliding window in Redis holds the one reservation.
    expect(await world.redis.connection.zcard(`${lane.prefix}:limits:isolations`)).toBe(1);
    await lane.stop();
  });
});

describe("the isolation cap and the Auto Scaling group", () => {
  // Regression: the cap was once taken at the isolate step, after leave-auto-scaling had already
  // put the instance in Standby; a burst of findings could then take a fleet out of service.
  it("leaves an instance that waits for the cap in service", async () => {
    const lane = await startLane(world, { worker: { WORKER_ISOLATIONS_PER_MINUTE: "1" } });
    try {
      const worker = lane.worker;
      if (!worker) throw new Error("lane without worker");
      const vpc = await seedVpc(world.aws);
      const instances = [await seed(world, { vpc, targetGroup: false }), await seed(world, { vpc, targetGroup: false })];
      const details = instances.map((i) => findingFor(i));
      await Promise.all(details.map((d) => lane.send(d)));
      const rows = await Promise.all(details.map((d) => remediationForFinding(world.db, findingIdOf(d))));
      const capped = await worker.logs.waitFor(postponed("isolation_cap"), "a job postponed by the cap");
      const index = rows.findIndex((r) => r.job_id === capped["jobId"]);
      const waiting = instances[index];
      if (!waiting) throw new Error("the postponed job is none of ours");
      expect((await viewInstance(world.aws, waiting)).autoScaling?.lifecycleState).toBe("InService");
    } finally {
      await lane.stop();
    }
  });
});

describe("an approved continuation that meets a transient error", () => {
  // Regression: an approved continuation that met one transient error once stayed stuck, because
  // the approval was looked up by the step still waiting (no longer waiting on the retry).
  it("is retried and completes", async () => {
    const policy = ["version: 1", 'accounts: { allow: ["*"] }', "rules:", "  - { name: all, match: { severity: { min: 0 } }, mode: approval }", ""].join("\n");
    const faults = ec2Faults([
      { operation: "ModifyNetworkInterfaceAttribute", times: 3, name: "RequestLimitExceeded", httpStatus: 503, errorClass: EC2ServiceException },
    ]);
    const lane = await startLane(world, { policy, awsMiddleware: faults.middleware });
    try {
      const worker = lane.worker;
      if (!worker) throw new Error("lane without worker");
      const seeded = await seed(world, { autoScaling: false, targetGroup: false });
      const detail = findingFor(seeded);
      await lane.send(detail);
      const r = await remediationForFinding(world.db, findingIdOf(detail));
      const waiting = await waitForStatus(world.db, r.id, SETTLED);
      expect(waiting.status).toBe("awaiting_approval");
      const decision = await approveRemediation(world.db.prisma, lane.queues, {
        remediationId: r.id,
        actor: "alice",
        reason: "go",
        planHash: waiting.plan_hash ?? "",
      });
      if (!decision.ok) throw new Error(decision.message);
      const jobId = decision.jobId;
      // The continuation's attempt after the throttled one contains the instance and hands over;
      // the evidence job runs the rest under the same approval.
      const done = await worker.logs.waitFor((l) => l.msg === "remediation job done" && l["jobId"] === jobId, "the continuation job to finish");
      expect(done["outcome"]).toBe("handed_over");
      expect((await waitForStatus(world.db, r.id, ["succeeded", "failed"])).status).toBe("succeeded");
    } finally {
      await lane.stop();
    }
  });
});
