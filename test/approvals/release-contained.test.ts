// Release eligibility and the reconciler's `contained` during a rolling deploy: a worker older than
// the contained_at migration isolates an instance without recording contained_at. A remediation it
// left failed after isolating must still be releasable (and recovered to its evidence steps), read
// from the isolate step; a dry run's isolate record contains nothing.
import { requestRelease } from "@gdr/core/approvals/decide";
import { closeQueues, createQueues, type RemediationQueues } from "@gdr/core/queues/queues";
import { lockCandidates } from "@gdr/worker/reconcile/candidates";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from "../support/index.js";
import { findingId, seedWaiting } from "./seed.js";

let db: TestDatabase;
let redis: TestRedis;
let queues: RemediationQueues;
let n = 0x500;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  queues = createQueues(redis.connection, redis.prefix);
});

afterAll(async () => {
  await closeQueues(queues);
  await Promise.all([db.drop(), redis.cleanup()]);
});

/** A remediation an old worker left: `status`, its isolate step `isolate`, contained_at NULL. */
async function seedOld(status: "failed" | "running", mode: "auto" | "dry_run", isolate: { status: string; output: object | null }): Promise<string> {
  const id = await seedWaiting(db, { findingId: findingId(++n), mode: "auto" });
  await db.pool.query("UPDATE remediations SET status = $2, mode = $3, plan = NULL, plan_hash = NULL, contained_at = NULL, updated_at = now() - interval '1 hour' WHERE id = $1", [
    id,
    status,
    mode,
  ]);
  await db.pool.query("UPDATE remediation_steps SET status = $2, output = $3, started_at = now() - interval '1 hour', finished_at = now() - interval '1 hour' WHERE remediation_id = $1", [
    id,
    isolate.status,
    isolate.output === null ? null : JSON.stringify(isolate.output),
  ]);
  return id;
}

async function releaseOutbox(id: string): Promise<number> {
  const r = await db.pool.query("SELECT 1 FROM outbox WHERE remediation_id = $1 AND job_id LIKE '%release%'", [id]);
  return r.rowCount ?? 0;
}

describe("contained without contained_at (a remediation an older worker isolated)", () => {
  it("a failed remediation whose isolate step succeeded can be released; a dry run's, or an escalated skip's, cannot", async () => {
    const isolated = await seedOld("failed", "auto", { status: "succeeded", output: { groupIds: ["sg-0123456789abcdef0"] } });
    const dryMode = await seedOld("failed", "dry_run", { status: "succeeded", output: { dryRun: true, calls: [] } });
    const dryRecord = await seedOld("failed", "auto", { status: "succeeded", output: { dryRun: true, calls: [] } });
    const escalated = await seedOld("failed", "auto", { status: "skipped", output: { escalated: "a person must look" } });
    const pending = await seedOld("failed", "auto", { status: "pending", output: null });

    expect(await requestRelease(db.prisma, queues, isolated, "token:alice")).toMatchObject({ ok: true, step: "release" });
    expect(await releaseOutbox(isolated)).toBe(1);
    for (const id of [dryMode, dryRecord, escalated, pending]) {
      expect(await requestRelease(db.prisma, queues, id, "token:alice"), id).toMatchObject({ ok: false, error: "not_awaiting_approval" });
      expect(await releaseOutbox(id)).toBe(0);
    }
  });

  it("the reconciler reads the same: a running one isolated by an old worker is contained, a dry run's is not", async () => {
    const isolated = await seedOld("running", "auto", { status: "succeeded", output: { groupIds: ["sg-0123456789abcdef0"] } });
    const dry = await seedOld("running", "dry_run", { status: "succeeded", output: { dryRun: true, calls: [] } });
    const candidates = await db.prisma.$transaction((tx) => lockCandidates(tx, 60_000, 1_000, null));
    const contained = new Map(candidates.map((c) => [c.id, c.contained]));
    expect(contained.get(isolated)).toBe(true);
    expect(contained.get(dry)).toBe(false);
  });
});
