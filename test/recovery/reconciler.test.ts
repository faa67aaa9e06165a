// The reconciler on its own, against real Postgres and Redis: Postgres is the record, BullMQ is
// transport. Remediations whose jobs Redis lost are re-enqueued exactly once even with several
// reconcilers at once; past the recovery limit a remediation is failed with the reason and people
// are told; one that stops moving shows on the gauge and is announced once per episode.
import { pauseKey } from "@gdr/core/control/pause";
import { queueFor } from "@gdr/core/queues/queues";
import { UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { deleteByPrefix } from "../support/index.js";
import { startReceiver, type Receiver } from "../notify/receiver.js";
import { createEngineWorld, metricValue, startLane, type EngineWorld, type Lane } from "../worker/engine-harness.js";
import { queuedRemediations, reconcilerEvents, recoveriesOf, settleLeftovers, startTestReconciler, type TestReconciler } from "./reconciler-world.js";

let world: EngineWorld;
let slack: Receiver;
const open: TestReconciler[] = [];
const lanes: Lane[] = [];

beforeAll(async () => {
  world = await createEngineWorld();
  slack = await startReceiver();
});

afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((r) => r.close()));
  await Promise.allSettled(lanes.splice(0).map((l) => l.stop()));
  await settleLeftovers(world);
  await world.db.pool.query(`DELETE FROM control_switches`);
  slack.requests.length = 0;
});

afterAll(async () => {
  await slack.close();
  await world.close();
});

async function lane(): Promise<Lane> {
  const l = await startLane(world, { worker: false });
  lanes.push(l);
  return l;
}

function reconciler(l: Lane, options: Parameters<typeof startTestReconciler>[3] = {}): TestReconciler {
  const r = startTestReconciler(world, l, `${slack.url}/hook`, options);
  open.push(r);
  return r;
}

/** Redis lost the lane's data (a restart without persistence): every key under its prefix gone. */
async function loseRedisData(l: Lane): Promise<void> {
  await deleteByPrefix(world.redis.connection, `${l.prefix}:`);
}

/** BullMQ fails the job for good (takes it as a worker would, and fails it with `reason`). */
async function failInBullmq(l: Lane, jobId: string, reason: string): Promise<void> {
  const connection = new Redis(world.redis.url, { maxRetriesPerRequest: null });
  const worker = new Worker("instance", null, { connection, prefix: l.prefix, autorun: false });
  try {
    const token = "test-token";
    const job = await worker.getNextJob(token);
    if (job?.id !== jobId) throw new Error(`expected ${jobId} to be next, got ${job?.id ?? "nothing"}`);
    await job.moveToFailed(new UnrecoverableError(reason), token, false);
  } finally {
    await worker.close();
    connection.disconnect();
  }
}

describe("reconciler", () => {
  it("re-enqueues each remediation whose job Redis lost exactly once, with two reconcilers running at once", async () => {
    const l = await lane();
    const rows = await queuedRemediations(world, l, 6);
    await loseRedisData(l);
    const a = reconciler(l);
    const b = reconciler(l);

    const [first, second] = await Promise.all([a.reconciler.pass(), b.reconciler.pass()]);
    const requeued = [...first.recoveries, ...second.recoveries].filter((r) => r.kind === "requeued");
    expect(requeued.map((r) => r.id).sort()).toEqual(rows.map((r) => r.id).sort());
    // Another pass of either finds every remediation carried by a live job: nothing more.
    const again = await Promise.all([a.reconciler.pass(), b.reconciler.pass()]);
    expect(again.flatMap((p) => p.recoveries).filter((r) => r.kind !== "alive")).toEqual([]);

    const queue = queueFor(l.queues, "instance");
    for (const r of rows) {
      expect(await recoveriesOf(world, r.id)).toMatchObject({ recoveries: 1, status: "queued" });
      const events = await reconcilerEvents(world, r.id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ action: "remediation.requeued", detail: { why: "lost", action: "contain", jobId: `${r.job_id}-recovery-1`, recovery: 1 } });
      const job = await queue.getJob(`${r.job_id}-recovery-1`);
      expect(await job?.getState()).toBe("waiting");
      expect(job?.data).toMatchObject({ remediationId: r.id, action: "contain" });
    }
    expect(await queue.getWaitingCount()).toBe(rows.length);
    const requeuedTotal = metricValue(await a.registry.metrics(), "gdr_worker_recoveries_total", { outcome: "requeued" }) +
      metricValue(await b.registry.metrics(), "gdr_worker_recoveries_total", { outcome: "requeued" });
    expect(requeuedTotal).toBe(rows.length);
  });

  it("resumes a queued remediation whose job was lost as a containment, never as the continuation of a plan approved before it was retried", async () => {
    const l = await lane();
    const [r] = await queuedRemediations(world, l, 1);
    if (!r) throw new Error("one remediation expected");
    // Queued again by a retry while an approved plan (here: terminate) is still on the row.
    const plan = { action: "continue", steps: [{ name: "terminate", destructive: true }] };
    await world.db.pool.query(`UPDATE remediations SET plan = $2::jsonb, plan_hash = 'h-old' WHERE id = $1::uuid`, [r.id, JSON.stringify(plan)]);
    await world.db.pool.query(
      `INSERT INTO approvals (id, remediation_id, step, decision, actor, reason, plan_hash) VALUES (gen_random_uuid(), $1::uuid, 'terminate', 'approved', 'token:alice', 'ok', 'h-old')`,
      [r.id],
    );
    await loseRedisData(l);

    const t = reconciler(l);
    expect((await t.reconciler.pass()).recoveries).toMatchObject([{ kind: "requeued", id: r.id, action: "contain" }]);
    const job = await queueFor(l.queues, "instance").getJob(`${r.job_id}-recovery-1`);
    expect(job?.data).toMatchObject({ remediationId: r.id, action: "contain" });
  });

  it("pages through every open remediation in one pass, so live ones ahead of them never hide lost ones", async () => {
    const l = await lane();
    const rows = await queuedRemediations(world, l, 5);
    const sorted = [...rows].sort((a, b) => a.id.localeCompare(b.id));
    const lost = sorted.slice(2); // the first page (batch of 2) is all live
    for (const r of lost) await queueFor(l.queues, "instance").remove(r.job_id);
    const pass = await reconciler(l, { batch: 2 }).reconciler.pass();
    expect(pass.recoveries.filter((r) => r.kind === "alive").map((r) => r.id)).toEqual(sorted.slice(0, 2).map((r) => r.id));
    expect(pass.recoveries.filter((r) => r.kind === "requeued").map((r) => r.id)).toEqual(lost.map((r) => r.id));
  });

  it("leaves alone a remediation whose job is live, one moved within the grace period, and one whose outbox row is not dispatched", async () => {
    const l = await lane();
    const [live, recent, pending] = await queuedRemediations(world, l, 3);
    if (!live || !recent || !pending) throw new Error("three remediations expected");
    const queue = queueFor(l.queues, "instance");
    await queue.remove(recent.job_id);
    await queue.remove(pending.job_id);
    await world.db.pool.query(`UPDATE outbox SET dispatched_at = NULL WHERE remediation_id = $1::uuid`, [pending.id]);
    // Only `recent` moved lately: the grace period is measured from its last move.
    await world.db.pool.query(`UPDATE remediations SET updated_at = now() - interval '10 minutes' WHERE id <> $1::uuid`, [recent.id]);

    const pass = await reconciler(l, { graceMs: 60_000 }).reconciler.pass();
    expect(pass.recoveries).toEqual([{ kind: "alive", id: live.id }]);
    for (const r of [live, recent, pending]) expect(await reconcilerEvents(world, r.id)).toEqual([]);
  });

  it("fails a remediation past the recovery limit with the reason, and tells people once", async () => {
    const l = await lane();
    const [r] = await queuedRemediations(world, l, 1);
    if (!r) throw new Error("one remediation expected");
    await world.db.pool.query(`UPDATE remediations SET recoveries = 5 WHERE id = $1::uuid`, [r.id]);
    // BullMQ failed its job (as it does past maxStalledCount).
    const queue = queueFor(l.queues, "instance");
    await failInBullmq(l, r.job_id, "job stalled more than allowable limit");

    const t = reconciler(l);
    const pass = await t.reconciler.pass();
    expect(pass.recoveries).toMatchObject([{ kind: "gave_up", id: r.id, why: "failed" }]);
    const after = await recoveriesOf(world, r.id);
    expect(after.status).toBe("failed");
    expect(after.error).toMatch(/^recovery limit reached: its job was failed 6 times \(last: job stalled more than allowable limit\)/);
    expect(await reconcilerEvents(world, r.id)).toMatchObject([{ action: "remediation.recovery_exhausted", detail: { was: "queued", limit: 5, recoveries: 5 } }]);
    // Nothing was enqueued for it.
    expect(await queue.getJob(`${r.job_id}-recovery-6`)).toBeUndefined();

    await t.reconciler.pass();
    await t.close(); // drains the notifier: whatever was sent has arrived
    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0]?.body.text).toMatch(/^Remediation failed: instance on /);
    expect(JSON.stringify(slack.requests[0]?.body.blocks)).toMatch(/recovery limit reached/);
  });

  it("fails a remediation whose row no longer makes a valid job, with the reason, and recovers the rest of its batch", async () => {
    const l = await lane();
    const rows = await queuedRemediations(world, l, 3);
    const sorted = [...rows].sort((a, b) => a.id.localeCompare(b.id));
    const bad = sorted[1];
    if (!bad) throw new Error("three remediations expected");
    // An identifier that no longer passes core's pattern (edited by hand, or written before the pattern tightened).
    await world.db.pool.query(`UPDATE remediations SET region = 'US EAST 1' WHERE id = $1::uuid`, [bad.id]);
    await loseRedisData(l);

    const t = reconciler(l, { batch: 3 });
    const pass = await t.reconciler.pass();
    expect(pass.recoveries.filter((r) => r.kind === "requeued").map((r) => r.id).sort()).toEqual(sorted.filter((r) => r !== bad).map((r) => r.id).sort());
    expect(pass.recoveries).toContainEqual(expect.objectContaining({ kind: "unqueueable", id: bad.id }));
    const after = await recoveriesOf(world, bad.id);
    expect(after.status).toBe("failed");
    expect(after.error).toMatch(/^its job cannot be built: .*region.*; not retryable until the remediation's row is corrected$/);
    expect(await reconcilerEvents(world, bad.id)).toMatchObject([{ action: "remediation.recovery_refused", detail: { was: "queued" } }]);
    expect(await queueFor(l.queues, "instance").getJob(`${bad.job_id}-recovery-1`)).toBeUndefined();
    for (const r of sorted.filter((r) => r !== bad)) expect(await recoveriesOf(world, r.id)).toMatchObject({ recoveries: 1, status: "queued" });
    expect(metricValue(await t.registry.metrics(), "gdr_worker_recoveries_total", { outcome: "unqueueable" })).toBe(1);

    await t.close(); // drains the notifier
    expect(slack.requests).toHaveLength(1);
    expect(JSON.stringify(slack.requests[0]?.body.blocks)).toMatch(/its job cannot be built/);
  });

  it("counts a remediation stuck past the bound on the gauge and announces each stuck episode once", async () => {
    const l = await lane();
    const [stuck, fresh] = await queuedRemediations(world, l, 2);
    if (!stuck || !fresh) throw new Error("two remediations expected");
    const t = reconciler(l);
    const gauge = async (): Promise<number> => metricValue(await t.registry.metrics(), "gdr_worker_remediations_stuck", { status: "queued" });
    const stall = (): Promise<unknown> => world.db.pool.query(`UPDATE remediations SET updated_at = now() - interval '20 minutes' WHERE id = $1::uuid`, [stuck.id]);

    await t.reconciler.pass();
    expect(await gauge()).toBe(0);

    // Queued for 20 minutes (its job waits: no worker has this playbook's queue running).
    await stall();
    expect((await t.reconciler.pass()).stuck).toBe(1);
    await t.reconciler.pass();
    expect(await gauge()).toBe(1);
    await slack.waitFor(1);
    expect(slack.requests.map((q) => q.body.text)).toEqual([expect.stringMatching(/^Remediation stuck: instance on /)]);
    expect((await recoveriesOf(world, stuck.id)).stuck_notified_at).not.toBeNull();
    expect((await recoveriesOf(world, fresh.id)).stuck_notified_at).toBeNull();

    // It moves again: the episode ends (gauge down, mark cleared); stalled again, a new episode.
    await world.db.pool.query(`UPDATE remediations SET status = 'running', updated_at = now() WHERE id = $1::uuid`, [stuck.id]);
    await t.reconciler.pass();
    expect(await gauge()).toBe(0);
    expect((await recoveriesOf(world, stuck.id)).stuck_notified_at).toBeNull();
    await stall();
    await t.reconciler.pass();
    await t.reconciler.pass();
    expect(metricValue(await t.registry.metrics(), "gdr_worker_remediations_stuck", { status: "running" })).toBe(1);
    await t.close(); // drains the notifier: whatever was sent has arrived
    expect(slack.requests.map((q) => q.body.text)).toEqual([expect.stringMatching(/^Remediation stuck: /), expect.stringMatching(/^Remediation stuck: /)]);
  });

  it("pages nobody per remediation while the kill switch is paused, nor until the backlog had the stuck bound to move after the resume; the gauge counts throughout", async () => {
    const l = await lane();
    const [r] = await queuedRemediations(world, l, 1);
    if (!r) throw new Error("one remediation expected");
    const t = reconciler(l);
    const gauge = async (): Promise<number> => metricValue(await t.registry.metrics(), "gdr_worker_remediations_stuck", { status: "queued" });
    await t.pause.pause("token:ops", "incident drill");
    // Held by the pause for 20 minutes.
    await world.db.pool.query(`UPDATE remediations SET updated_at = now() - interval '20 minutes' WHERE id = $1::uuid`, [r.id]);

    expect((await t.reconciler.pass()).stuck).toBe(1);
    expect(await gauge()).toBe(1);
    // Resumed just now: the backlog has not had its chance to move yet.
    await t.pause.resume("token:ops", "drill over");
    expect((await t.reconciler.pass()).stuck).toBe(1);
    // Not claimed as announced (a notification goes out only for a claimed episode).
    expect((await recoveriesOf(world, r.id)).stuck_notified_at).toBeNull();

    // Resumed 20 minutes ago and still not moving: now it is stuck news, told once.
    await world.db.pool.query(`UPDATE control_switches SET since = now() - interval '20 minutes'`);
    await world.redis.connection.del(pauseKey(l.prefix));
    await t.reconciler.pass();
    await t.reconciler.pass();
    expect((await recoveriesOf(world, r.id)).stuck_notified_at).not.toBeNull();
    await t.close(); // drains the notifier: whatever was sent has arrived
    expect(slack.requests.map((q) => q.body.text)).toEqual([expect.stringMatching(/^Remediation stuck: instance on /)]);
  });

  it("counts an approval as movement: a plan frozen long before it was approved is not stuck once approved", async () => {
    const l = await lane();
    const [r] = await queuedRemediations(world, l, 1);
    if (!r) throw new Error("one remediation expected");
    // Frozen 20 minutes ago, approved now (an approval writes the approvals row, not the remediation).
    const plan = { action: "continue", steps: [{ name: "isolate", destructive: false }] };
    await world.db.pool.query(
      `UPDATE remediations SET status = 'awaiting_approval', plan = $2::jsonb, plan_hash = 'h-frozen', updated_at = now() - interval '20 minutes' WHERE id = $1::uuid`,
      [r.id, JSON.stringify(plan)],
    );
    await world.db.pool.query(
      `INSERT INTO approvals (id, remediation_id, step, decision, actor, reason, plan_hash) VALUES (gen_random_uuid(), $1::uuid, 'isolate', 'approved', 'token:alice', 'go', 'h-frozen')`,
      [r.id],
    );
    const t = reconciler(l);
    expect((await t.reconciler.pass()).stuck).toBe(0);
    expect(metricValue(await t.registry.metrics(), "gdr_worker_remediations_stuck", { status: "approved" })).toBe(0);
    await t.close();
    expect(slack.requests).toEqual([]);
    expect((await recoveriesOf(world, r.id)).stuck_notified_at).toBeNull();
  });
});
