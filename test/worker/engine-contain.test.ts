// Containment end to end through the real parts: a finding on SQS → ingest (remediation, outbox,
// BullMQ job) → the worker service (BullMQ Worker, engine, Instance playbook) → moto. Asserted
// afterwards on what moto, Postgres, Redis and the worker's /metrics hold.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTagsCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { EVIDENCE_PRIORITY } from "@gdr/core/queues/catalog";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  seedVpc,
  type SeededInstance,
  containmentProblems,
  seededEnis,
  viewInstance,
} from "../support/index.js";
import {
  CONTAINMENT_STEPS,
  auditOf,
  createEngineWorld,
  findingFor,
  findingIdOf,
  metricValue,
  receiptsOf,
  remediation,
  remediationForFinding,
  remediationsOf,
  seed,
  startLane,
  stepsOf,
  waitForEmptyQueue,
  waitForReceipts,
  waitForStatus,
  type EngineWorld,
} from "./engine-harness.js";

const FINISHED = ["succeeded", "failed", "skipped", "dry_run", "awaiting_approval"];

let world: EngineWorld;

beforeAll(async () => {
  world = await createEngineWorld();
});

afterAll(async () => {
  await world.close();
});

/** The audit trail's step events, in order: each step exactly once for a run without retries. */
async function stepEvents(remediationId: string): Promise<{ action: string; step: string | null; note: string | null; ids: number }[]> {
  return (await auditOf(world.db, remediationId))
    .filter((a) => a.action.startsWith("step."))
    .map((a) => ({ action: a.action, step: a.step, note: a.note, ids: a.aws_request_ids.length }));
}

describe("an instance finding through ingest and the worker", () => {
  it("isolates the instance, keeps the evidence and takes it out of service, each step once and audited", async () => {
    const lane = await startLane(world);
    const seeded = await seed(world);
    const before = await viewInstance(world.aws, seeded);
    expect(before.enis).toEqual(seededEnis(seeded));
    expect(before.autoScaling?.lifecycleState).toBe("InService");
    expect(before.registered).toEqual([`${seeded.instanceId}:${seeded.targetPort}`]);

    const detail = findingFor(seeded);
    const findingId = findingIdOf(detail);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingId);
    expect(queued).toMatchObject({ mode: "auto", resource_key: seeded.instanceId });
    const done = await waitForStatus(world.db, queued.id, FINISHED);
    expect(done).toMatchObject({ status: "succeeded", error: null });

    // Postgres: every step once, in order, finished, with its output; the audit trail agrees.
    const steps = await stepsOf(world.db, queued.id);
    expect(steps.map((s) => s.name)).toEqual([...CONTAINMENT_STEPS]);
    for (const s of steps) {
      expect(s, s.name).toMatchObject({ attempts: 1, error_code: null });
      expect(s.output, s.name).not.toBeNull();
      expect(s.finished_at, s.name).not.toBeNull();
    }
    // Each outcome as it really was: moto has no StartMalwareScan, so no scan runs and the step
    // says so; verify's check finds containment in place, which is a verification.
    const notSucceeded = Object.fromEntries(steps.filter((s) => s.status !== "succeeded").map((s) => [s.name, s.status]));
    expect(notSucceeded).toEqual({ "malware-scan": "unavailable", verify: "verified" });
    const events = await stepEvents(queued.id);
    expect(events.find((e) => e.step === "malware-scan")?.note).toMatch(/^StartMalwareScan is not available in this region: .*HTTP 404/);
    const isolated = steps.find((s) => s.name === "isolate")?.output as { enis: { id: string; previousGroupIds: string[] }[] };
    expect(isolated.enis.map((e) => ({ id: e.id, groupIds: [...e.previousGroupIds].sort() })).sort((a, b) => a.id.localeCompare(b.id)))
      .toEqual(seededEnis(seeded));
    expect(events.map((e) => e.step)).toEqual([...CONTAINMENT_STEPS]);
    // Every step that called AWS recorded the request ids (moto's malware-scan 404 carries none).
    for (const e of events.filter((e) => e.step !== "malware-scan")) expect(e.ids, `${e.step ?? ""} request ids`).toBeGreaterThan(0);

    // moto: contained, and nothing else of the VPC changed.
    const after = await viewInstance(world.aws, seeded);
    expect(containmentProblems(after, seeded, { findingId, remediationId: queued.id })).toEqual([]);
    expect(after.autoScaling?.lifecycleState).toBe("Standby");
    // (the isolation's two groups added: transit and containment)
    expect(after.vpcGroups.filter((g) => !["guardduty-responder-isolation", "guardduty-responder-transit"].includes(g.name))).toEqual(before.vpcGroups);

    // Redis: the containing job and the evidence job it handed over to (at a lower priority), both completed.
    const jobs = (await lane.jobs()).filter((j) => j.data.remediationId === queued.id);
    expect(jobs.map((j) => [j.id, j.data.action, j.opts.priority ?? 0]).sort()).toEqual([
      [queued.job_id, "contain", 0],
      [`${queued.job_id}-evidence`, "evidence", EVIDENCE_PRIORITY],
    ]);
    for (const job of jobs) expect(await job.getState()).toBe("completed");
    expect((await auditOf(world.db, queued.id)).filter((a) => a.action === "remediation.handed_over")).toHaveLength(1);

    // The worker's own metrics.
    const metrics = await lane.worker?.metrics();
    expect(metrics).toBeDefined();
    const text = metrics ?? "";
    expect(metricValue(text, "gdr_worker_jobs_total", { playbook: "instance", outcome: "succeeded" })).toBe(1);
    expect(metricValue(text, "gdr_worker_time_to_contained_seconds_count", { since: "ingested" })).toBe(1);
    expect(metricValue(text, "gdr_worker_time_to_contained_seconds_count", { since: "finding_created" })).toBe(1);
    expect(metricValue(text, "gdr_worker_time_to_contained_seconds_sum", { since: "ingested" })).toBeGreaterThan(0);
    await lane.stop();
  });

  it("isolates five instances of one VPC with one shared containment group and one transit group", async () => {
    const lane = await startLane(world);
    const vpc = await seedVpc(world.aws);
    const instances: SeededInstance[] = [];
    for (let i = 0; i < 5; i++) instances.push(await seed(world, { vpc, autoScaling: false, targetGroup: false }));
    const details = instances.map((i) => findingFor(i));
    await Promise.all(details.map((d) => lane.send(d)));

    const ids = await Promise.all(details.map((d) => remediationForFinding(world.db, findingIdOf(d))));
    for (const r of ids) expect((await waitForStatus(world.db, r.id, FINISHED)).status).toBe("succeeded");

    const views = await Promise.all(instances.map((i) => viewInstance(world.aws, i)));
    const groupIds = new Set(views.flatMap((v) => v.isolationGroups.map((g) => g.id)));
    expect(groupIds.size).toBe(1);
    expect(new Set(views.flatMap((v) => v.transitGroups.map((g) => g.id))).size).toBe(1);
    for (const [i, view] of views.entries()) {
      const seeded = instances[i];
      const r = ids[i];
      if (!seeded || !r) throw new Error("unreachable");
      expect(containmentProblems(view, seeded, { findingId: r.finding_id, remediationId: r.id })).toEqual([]);
    }
    // Exactly one of the five created the groups (both, under the VPC's lock); the others found them.
    const created = await Promise.all(
      ids.map(async (r) => (await stepsOf(world.db, r.id)).find((s) => s.name === "isolate")?.output as { groups: { created: boolean }[] }),
    );
    expect(created.flatMap((o) => o.groups).filter((g) => g.created)).toHaveLength(1);
    await lane.stop();
  });

  it("under a burst, isolates every instance before evidence work on any of them (the rest is handed over to evidence jobs)", async () => {
    // No worker while the burst arrives, so every containment job is waiting when one worker slot
    // starts: the order is then the queue's, not the arrival's.
    const lane = await startLane(world, { worker: false });
    const vpc = await seedVpc(world.aws);
    const instances: SeededInstance[] = [];
    for (let i = 0; i < 4; i++) instances.push(await seed(world, { vpc, autoScaling: false, targetGroup: false }));
    const details = instances.map((i) => findingFor(i));
    await Promise.all(details.map((d) => lane.send(d)));
    const rows = await Promise.all(details.map((d) => remediationForFinding(world.db, findingIdOf(d))));
    await waitForEmptyQueue(world, lane);
    expect((await lane.jobs()).filter((j) => rows.some((r) => r.job_id === j.id))).toHaveLength(4);

    await lane.restartWorker({ WORKER_CONCURRENCY: "1" });
    for (const r of rows) expect((await waitForStatus(world.db, r.id, FINISHED)).status).toBe("succeeded");
    const steps = await Promise.all(rows.map(async (r) => new Map((await stepsOf(world.db, r.id)).map((st) => [st.name, st]))));
    const isolated = steps.map((m) => m.get("isolate")?.finished_at?.getTime() ?? Infinity);
    const evidenceStarted = steps.map((m) => m.get("protect-evidence")?.started_at?.getTime() ?? -Infinity);
    expect(Math.max(...isolated)).toBeLessThanOrEqual(Math.min(...evidenceStarted));
    for (const [i, view] of (await Promise.all(instances.map((inst) => viewInstance(world.aws, inst)))).entries()) {
      const seeded = instances[i];
      const r = rows[i];
      if (!seeded || !r) throw new Error("unreachable");
      expect(containmentProblems(view, seeded, { findingId: r.finding_id, remediationId: r.id })).toEqual([]);
    }
    await lane.stop();
  });

  it("starts nothing new for a re-sent finding or a duplicate delivery: one remediation, one job, one snapshot set", async () => {
    const lane = await startLane(world);
    const seeded = await seed(world, { autoScaling: false });
    const createdAt = new Date(Date.now() - 60_000).toISOString();
    const first = findingFor(seeded, { count: 1, createdAt, updatedAt: createdAt });
    const findingId = findingIdOf(first);
    // The first version and a duplicate delivery of it, at once.
    const sent = await Promise.all([lane.send(first), lane.send(first)]);
    const r = await remediationForFinding(world.db, findingId);
    expect((await waitForStatus(world.db, r.id, FINISHED)).status).toBe("succeeded");
    const stepsBefore = await stepsOf(world.db, r.id);

    // GuardDuty's update of the same finding (higher count, later updatedAt), and once more the first.
    const update = findingFor(seeded, { id: findingId, count: 7, createdAt, updatedAt: new Date().toISOString() });
    sent.push(await lane.send(update), await lane.send(first));
    await waitForReceipts(world.db, sent);
    await waitForEmptyQueue(world, lane);

    const receipts = await receiptsOf(world.db, sent);
    expect(receipts.map((x) => `${x.outcome}:${x.reason}`).sort()).toEqual([
      "accepted:finding_updated",
      "accepted:new_finding",
      "duplicate:older_version",
      "duplicate:same_version",
    ]);
    expect(await remediationsOf(world.db, { findingId })).toHaveLength(1);
    expect(await remediationsOf(world.db, { resourceKey: seeded.instanceId })).toHaveLength(1);
    const jobs = (await lane.jobs()).filter((j) => j.data.findingId === findingId);
    expect(jobs.map((j) => j.id).sort()).toEqual([r.job_id, `${r.job_id}-evidence`]);
    // Nothing ran again: the same step rows, and moto holds one snapshot per volume.
    expect(await stepsOf(world.db, r.id)).toEqual(stepsBefore);
    expect((await remediation(world.db, r.id)).status).toBe("succeeded");
    const view = await viewInstance(world.aws, seeded);
    expect(containmentProblems(view, seeded, { findingId, remediationId: r.id })).toEqual([]);
    await lane.stop();
  });

  // Issue 8 item 7: the tag may have been set by the compromised workload itself, so it holds the
  // remediation for a person (auto → approval request), never skips it.
  it("holds an instance tagged exempt at AWS after ingest (not in the finding) for a person, changing nothing", async () => {
    const lane = await startLane(world);
    const worker = lane.worker;
    if (!worker) throw new Error("lane without worker");
    const seeded = await seed(world);
    // Held back by the kill switch until the tag is in place.
    await worker.service.limits.pause.pause("test", "tag the instance first");
    const detail = findingFor(seeded);
    await lane.send(detail);
    const r = await remediationForFinding(world.db, findingIdOf(detail));
    await worker.logs.waitFor((l) => l.msg === "remediation postponed" && l["why"] === "paused", "the job postponed while paused");
    await world.aws.ec2.send(
      new CreateTagsCommand({ Resources: [seeded.instanceId], Tags: [{ Key: "guardduty-remediation", Value: "exempt" }] }),
    );
    const before = await viewInstance(world.aws, seeded);
    await worker.service.limits.pause.resume("test");

    const done = await waitForStatus(world.db, r.id, FINISHED);
    expect(done.status).toBe("awaiting_approval");
    expect(done.plan).toMatchObject({ ifDeclined: "nothing_done", reason: expect.stringMatching(/exemption tag guardduty-remediation=exempt/) as unknown });
    const steps = await stepsOf(world.db, r.id);
    expect(steps.map((s) => [s.name, s.status])).toEqual([["identify", "succeeded"], ["leave-auto-scaling", "awaiting_approval"]]);
    expect(await viewInstance(world.aws, seeded)).toEqual(before);
    await lane.stop();
  });

  it("skips a terminated instance as resource_terminated", async () => {
    const lane = await startLane(world);
    const seeded = await seed(world, { autoScaling: false, targetGroup: false });
    await world.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [seeded.instanceId] }));
    const before = await viewInstance(world.aws, seeded);
    const detail = findingFor(seeded);
    await lane.send(detail);
    const r = await remediationForFinding(world.db, findingIdOf(detail));
    const done = await waitForStatus(world.db, r.id, FINISHED);
    expect(done.status).toBe("skipped");
    expect(done.error).toMatch(/^resource_terminated: /);
    expect((await stepsOf(world.db, r.id)).map((s) => [s.name, s.status])).toEqual([["identify", "skipped"]]);
    expect(await viewInstance(world.aws, seeded)).toEqual(before);
    await lane.stop();
  });

  // Regression: the worker once ignored the policy file, so its check of the live tags always
  // used the default exemption tag instead of the policy's own.
  it("holds for a person on the policy's own exemption tag when it is set at AWS after ingest", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gdr-policy-"));
    const policy = [
      "version: 1",
      'accounts: { allow: ["*"] }',
      "exemptTag: { key: responder, value: hands-off }",
      "rules:",
      "  - name: all-auto",
      "    match: { severity: { min: 0 } }",
      "    mode: auto",
      "",
    ].join("\n");
    const policyFile = join(dir, "policy.yaml");
    writeFileSync(policyFile, policy);
    const lane = await startLane(world, { policy, worker: { POLICY_FILE: policyFile } });
    try {
      const worker = lane.worker;
      if (!worker) throw new Error("lane without worker");
      const seeded = await seed(world, { autoScaling: false, targetGroup: false });
      await worker.service.limits.pause.pause("test", "tag the instance first");
      const detail = findingFor(seeded);
      await lane.send(detail);
      const r = await remediationForFinding(world.db, findingIdOf(detail));
      await world.aws.ec2.send(new CreateTagsCommand({ Resources: [seeded.instanceId], Tags: [{ Key: "responder", Value: "hands-off" }] }));
      await worker.service.limits.pause.resume("test");
      const done = await waitForStatus(world.db, r.id, FINISHED);
      expect(done.status).toBe("awaiting_approval");
      expect(done.plan).toMatchObject({ reason: expect.stringMatching(/exemption tag responder=hands-off/) as unknown });
    } finally {
      await lane.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
