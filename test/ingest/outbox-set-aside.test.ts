// One outbox row that cannot become a job (its payload fails the catalog's schema, or names another
// queue) must not hold back the rows beside it: the relay queues the good ones, sets the bad one
// aside with its reason (closed row, failed remediation, audit event) and tells people. Checked
// on the stale-row pass of a running ingest and on the batch path (dispatchForFindings).
import { createLogger } from "@gdr/core/log";
import type { NotificationEvent } from "@gdr/core/notify/index";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIngestMetrics } from "../../services/ingest/src/metrics.js";
import { createOutboxRelay } from "../../services/ingest/src/outbox.js";
import { waitUntil } from "../support/index.js";
import { seedPendingOutbox, type PendingOutbox } from "../support/seed/outbox.js";
import { createWorld, ingestEnv, outboxRows, queueOf, recordingNotifier, startIngest, type World } from "./harness.js";

let world: World;

beforeAll(async () => {
  world = await createWorld();
});

afterAll(async () => {
  await world.close();
});

type Seeded = PendingOutbox;

/** A pending outbox row, stale (left to the relay) or not; `spoil` changes what the row carries. */
function seed(options: { stale: boolean; spoil?: { payload?: Record<string, unknown>; queue?: string } }): Promise<Seeded> {
  return seedPendingOutbox(world.db, { ageMinutes: options.stale ? 1 : 0, ...(options.spoil ? { spoil: options.spoil } : {}) });
}

async function remediation(id: string): Promise<{ status: string; error: string | null; finished: boolean }> {
  const { rows } = await world.db.pool.query<{ status: string; error: string | null; finished: boolean }>(
    "SELECT status::text AS status, error, finished_at IS NOT NULL AS finished FROM remediations WHERE id = $1::uuid",
    [id],
  );
  if (!rows[0]) throw new Error(`no remediation ${id}`);
  return rows[0];
}

/** What Postgres, BullMQ and the notifier hold for a row that was set aside. */
async function expectSetAside(s: Seeded, reason: RegExp, notices: readonly NotificationEvent[]): Promise<void> {
  const [row] = await outboxRows(world.db, { remediationId: s.remediationId });
  expect(row).toMatchObject({ dispatched: true, attempts: 1 });
  expect(row?.last_error).toMatch(/^set aside: /);
  expect(row?.last_error).toMatch(reason);
  expect(await queueOf(world, "instance").getJob(s.jobId)).toBeUndefined();
  expect(await queueOf(world, "ecs-task").getJob(s.jobId)).toBeUndefined();

  const r = await remediation(s.remediationId);
  expect(r).toMatchObject({ status: "failed", finished: true });
  expect(r.error).toContain(`its job could not be queued (${s.jobId})`);
  expect(r.error).toMatch(reason);

  const { rows: audit } = await world.db.pool.query<{ actor: string; action: string; finding_id: string; detail: unknown }>(
    "SELECT actor, action, finding_id, detail FROM audit_events WHERE remediation_id = $1::uuid",
    [s.remediationId],
  );
  expect(audit).toEqual([
    { actor: "system:outbox", action: "outbox.set_aside", finding_id: s.findingId, detail: { outboxId: expect.any(String) as unknown, queue: expect.any(String) as unknown, jobId: s.jobId, reason: expect.stringMatching(reason) as unknown, remediationFailed: true } },
  ]);

  const told = notices.filter((n) => n.remediationId === s.remediationId);
  expect(told.map((n) => n.kind)).toEqual(["failed"]);
  expect(told[0]?.detail).toMatch(reason);
}

async function expectQueued(s: Seeded): Promise<void> {
  const [row] = await outboxRows(world.db, { remediationId: s.remediationId });
  expect(row).toMatchObject({ dispatched: true, attempts: 1, last_error: null });
  const job = await queueOf(world, "instance").getJob(s.jobId);
  expect(job?.data).toEqual(s.payload);
  expect((await remediation(s.remediationId)).status).toBe("queued");
  const { rows: audit } = await world.db.pool.query("SELECT action FROM audit_events WHERE remediation_id = $1::uuid", [s.remediationId]);
  expect(audit).toEqual([]);
}

describe("outbox relay, one bad row in a batch", () => {
  it("the stale-row pass queues the good rows and sets the bad one aside", async () => {
    const before = await seed({ stale: true });
    const bad = await seed({ stale: true, spoil: { payload: { region: "us-east-1.evil.example" } } });
    const after = await seed({ stale: true });
    const notifier = recordingNotifier();
    const ingest = await startIngest(ingestEnv(world, { INGEST_OUTBOX_INTERVAL_MS: "200" }), { notifier });
    try {
      await waitUntil(async () => (await outboxRows(world.db)).every((o) => o.dispatched), { attempts: 100, what: "the relay to close every pending row" });
      await waitUntil(() => notifier.events.length > 0, { what: "the notice of the row set aside" });
      await expectQueued(before);
      await expectQueued(after);
      await expectSetAside(bad, /region/, notifier.events);
      expect(await ingest.metric("gdr_ingest_outbox_dispatched_total")).toBe(2);
      expect(await ingest.metric("gdr_ingest_outbox_set_aside_total")).toBe(1);
      await waitUntil(async () => (await ingest.metric("gdr_ingest_outbox_pending")) === 0, { what: "the pending gauge to drop" });
    } finally {
      await ingest.stop();
    }
  });

  it("the batch path (dispatchForFindings) queues the good rows and sets aside a row for another queue", async () => {
    const good = await seed({ stale: false });
    const wrongQueue = await seed({ stale: false, spoil: { queue: "ecs-task" } });
    const badMode = await seed({ stale: false, spoil: { payload: { mode: "yolo" } } });
    const notifier = recordingNotifier();
    const metrics = createIngestMetrics(new Registry());
    const relay = createOutboxRelay({
      prisma: world.db.prisma,
      queues: world.queues,
      logger: createLogger({ level: "silent", name: "test" }),
      metrics,
      notifier,
      publicUrl: "http://gdr.test",
    });
    expect(await relay.dispatchForFindings([good.findingId, wrongQueue.findingId, badMode.findingId])).toBe(1);
    await expectQueued(good);
    await expectSetAside(wrongQueue, /playbook instance, the row for queue ecs-task/, notifier.events);
    await expectSetAside(badMode, /mode/, notifier.events);
    // Closed rows are not taken again.
    expect(await relay.dispatchForFindings([good.findingId, wrongQueue.findingId, badMode.findingId])).toBe(0);
    expect(notifier.events).toHaveLength(2);
  });

  it("fails only a remediation waiting on the job: a bad row for one that moved on (a release of a contained one) leaves its status", async () => {
    const contained = await seed({ stale: false, spoil: { payload: { action: "release", region: "us-east-1.evil.example" } } });
    await world.db.pool.query("UPDATE remediations SET status = 'succeeded', finished_at = now(), error = NULL WHERE id = $1::uuid", [contained.remediationId]);
    const running = await seed({ stale: false, spoil: { payload: { region: "us-east-1.evil.example" } } });
    await world.db.pool.query("UPDATE remediations SET status = 'running' WHERE id = $1::uuid", [running.remediationId]);
    const notifier = recordingNotifier();
    const relay = createOutboxRelay({
      prisma: world.db.prisma,
      queues: world.queues,
      logger: createLogger({ level: "silent", name: "test" }),
      metrics: createIngestMetrics(new Registry()),
      notifier,
      publicUrl: "http://gdr.test",
    });
    expect(await relay.dispatchForFindings([contained.findingId, running.findingId])).toBe(0);
    expect(await remediation(contained.remediationId)).toMatchObject({ status: "succeeded", error: null });
    expect(await remediation(running.remediationId)).toMatchObject({ status: "running", error: null });
    for (const s of [contained, running]) {
      const [row] = await outboxRows(world.db, { remediationId: s.remediationId });
      expect(row?.last_error).toMatch(/^set aside: .*region/);
      const { rows: audit } = await world.db.pool.query("SELECT action, detail->'remediationFailed' AS failed FROM audit_events WHERE remediation_id = $1::uuid", [s.remediationId]);
      expect(audit).toEqual([{ action: "outbox.set_aside", failed: false }]);
    }
    // Nothing failed, so nobody is told a remediation failed; the log and the audit say it.
    expect(notifier.events).toEqual([]);
  });
});
