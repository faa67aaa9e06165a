// The approval expiry on real Postgres and Redis: nothing expires inside the window, everything
// waiting past it does (with `now` injected, not slept), a concurrent approval and expiry end in
// exactly one decision, `contain` lets only non-destructive containment go ahead, a declined plan on
// a contained resource leaves it contained, and people are notified of each expiry.
import { approveRemediation } from "@gdr/core/approvals/decide";
import { EXPIRY_ACTOR, expireApprovals } from "@gdr/core/approvals/expire";
import { startApprovalSweeper } from "@gdr/core/approvals/sweeper";
import { loadWorkerConfig } from "@gdr/worker/config";
import { createLogger } from "@gdr/core/log";
import type { NotificationEvent } from "@gdr/core/notify/index";
import { closeQueues, createQueues, type RemediationQueues } from "@gdr/core/queues/queues";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from "../support/index.js";
import { findingId, HASH, seedWaiting } from "./seed.js";

const HOUR = 3_600_000;
let db: TestDatabase;
let redis: TestRedis;
let queues: RemediationQueues;
let n = 0;
const next = () => findingId(++n);
const later = (ms: number) => new Date(Date.now() + ms);

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  queues = createQueues(redis.connection, redis.prefix);
});

afterAll(async () => {
  await closeQueues(queues);
  await Promise.all([db.drop(), redis.cleanup()]);
});

async function state(id: string) {
  const r = await db.pool.query<{ status: string; error: string | null }>("SELECT status::text AS status, error FROM remediations WHERE id = $1", [id]);
  const a = await db.pool.query<{ decision: string; actor: string; reason: string }>(
    "SELECT decision::text AS decision, actor, reason FROM approvals WHERE remediation_id = $1",
    [id],
  );
  const audit = await db.pool.query<{ action: string }>("SELECT action FROM audit_events WHERE remediation_id = $1 AND action LIKE 'approval.%'", [id]);
  const outbox = await db.pool.query<{ job_id: string; dispatched: boolean }>(
    "SELECT job_id, dispatched_at IS NOT NULL AS dispatched FROM outbox WHERE remediation_id = $1",
    [id],
  );
  return { status: r.rows[0]?.status, error: r.rows[0]?.error, approvals: a.rows, audit: audit.rows.map((e) => e.action), outbox: outbox.rows };
}

describe("expireApprovals", () => {
  it("leaves an approval alone inside the window and expires it after", async () => {
    const id = await seedWaiting(db, { findingId: next() });
    const before = await expireApprovals(db.prisma, queues, { now: later(HOUR - 60_000), expiryMs: HOUR, expiry: "1h", onExpiry: "cancel" });
    expect(before.expired).not.toContain(id);
    expect((await state(id)).status).toBe("awaiting_approval");

    const after = await expireApprovals(db.prisma, queues, { now: later(HOUR + 1_000), expiryMs: HOUR, expiry: "1h", onExpiry: "cancel" });
    expect(after.expired).toContain(id);
    const s = await state(id);
    expect(s).toMatchObject({ status: "expired", error: "approval expired: not decided within 1h", audit: ["approval.expired"], outbox: [] });
    expect(s.approvals).toEqual([{ decision: "expired", actor: EXPIRY_ACTOR, reason: "not decided within 1h" }]);

    // An approval arriving afterwards finds nothing to approve; a second sweep changes nothing.
    const approval = await approveRemediation(db.prisma, queues, { remediationId: id, actor: "token:late", reason: "too late", planHash: HASH });
    expect(approval).toMatchObject({ ok: false, error: "not_awaiting_approval" });
    expect((await expireApprovals(db.prisma, queues, { now: later(2 * HOUR), expiryMs: HOUR, onExpiry: "cancel" })).expired).not.toContain(id);
    expect((await state(id)).approvals).toHaveLength(1);
  });

  it("measures the window from the latest time the plan was frozen", async () => {
    const id = await seedWaiting(db, { findingId: next() });
    // An earlier freeze, long past the window; the one seedWaiting wrote (now) is the one that counts.
    await db.pool.query(
      `INSERT INTO audit_events (at, actor, action, remediation_id, aws_request_ids) VALUES (now() - interval '3 hours', 'worker', 'remediation.awaiting_approval', $1, '{}')`,
      [id],
    );
    const r = await expireApprovals(db.prisma, queues, { now: later(HOUR / 2), expiryMs: HOUR, onExpiry: "cancel" });
    expect(r.expired).not.toContain(id);
    expect((await state(id)).status).toBe("awaiting_approval");
  });

  it("does not expire a plan approved whose continuation has not run yet", async () => {
    const id = await seedWaiting(db, { findingId: next() });
    expect(await approveRemediation(db.prisma, queues, { remediationId: id, actor: "token:alice", reason: "go", planHash: HASH })).toMatchObject({ ok: true });
    const r = await expireApprovals(db.prisma, queues, { now: later(2 * HOUR), expiryMs: HOUR, onExpiry: "cancel" });
    expect(r.expired).not.toContain(id);
    const s = await state(id);
    expect(s.status).toBe("awaiting_approval");
    expect(s.approvals).toEqual([{ decision: "approved", actor: "token:alice", reason: "go" }]);
  });

  it("a plan approved but not yet continued never takes a place in the sweep's limit from a plan still waiting", async () => {
    const approved = await seedWaiting(db, { findingId: next() });
    expect(await approveRemediation(db.prisma, queues, { remediationId: approved, actor: "token:alice", reason: "go", planHash: HASH })).toMatchObject({ ok: true });
    const waiting = await seedWaiting(db, { findingId: next() });
    // The approved one is first in the sweep's order (oldest row), ahead of every other test's too.
    await db.pool.query("UPDATE remediations SET updated_at = '2000-01-01' WHERE id = $1", [approved]);
    await db.pool.query("UPDATE remediations SET updated_at = '2000-01-02' WHERE id = $1", [waiting]);
    const r = await expireApprovals(db.prisma, queues, { now: later(2 * HOUR), expiryMs: HOUR, onExpiry: "cancel", limit: 1 });
    expect(r.expired).toEqual([waiting]);
    expect((await state(waiting)).status).toBe("expired");
    expect((await state(approved)).status).toBe("awaiting_approval");
  });

  it("races with a concurrent approval: exactly one decision", async () => {
    const ids = await Promise.all(Array.from({ length: 8 }, () => seedWaiting(db, { findingId: next() })));
    const now = later(2 * HOUR);
    const results = await Promise.all([
      expireApprovals(db.prisma, queues, { now, expiryMs: HOUR, onExpiry: "cancel" }),
      ...ids.map((id) => approveRemediation(db.prisma, queues, { remediationId: id, actor: "token:bob", reason: "race", planHash: HASH })),
      expireApprovals(db.prisma, queues, { now, expiryMs: HOUR, onExpiry: "cancel" }),
    ]);
    for (const id of ids) {
      const s = await state(id);
      expect(s.approvals, id).toHaveLength(1);
      const decision = s.approvals[0]?.decision;
      if (decision === "approved") {
        expect(s.status).toBe("awaiting_approval");
        expect(s.outbox).toHaveLength(1);
      } else {
        expect(decision).toBe("expired");
        expect(s.status).toBe("expired");
        expect(s.outbox).toEqual([]);
      }
    }
    expect(results.length).toBe(10);
  });

  it("contain: a non-destructive containment plan goes ahead, approved by the expiry", async () => {
    const id = await seedWaiting(db, { findingId: next() });
    const r = await expireApprovals(db.prisma, queues, { now: later(2 * HOUR), expiryMs: HOUR, expiry: "1h", onExpiry: "contain" });
    expect(r.contained).toContain(id);
    const s = await state(id);
    expect(s.status).toBe("awaiting_approval"); // the continuation job takes it from here
    expect(s.approvals).toEqual([{ decision: "approved", actor: EXPIRY_ACTOR, reason: "not decided within 1h; policy onExpiry: contain (non-destructive plan)" }]);
    expect(s.audit).toEqual(["approval.expired"]);
    expect(s.outbox).toEqual([{ job_id: expect.stringContaining(HASH.slice(0, 16)) as unknown, dispatched: true }]);
    const queue = queues.get("instance");
    const job = await queue?.getJob(s.outbox[0]?.job_id ?? "");
    expect(job?.data).toMatchObject({ remediationId: id, action: "continue" });
  });

  it("contain: a plan with a destructive step, or a release, is cancelled instead", async () => {
    const destructive = await seedWaiting(db, {
      findingId: next(),
      mode: "auto",
      step: "terminate",
      plan: { action: "continue", steps: [{ name: "terminate", destructive: true, calls: [] }] },
    });
    const mixed = await seedWaiting(db, {
      findingId: next(),
      plan: { action: "continue", steps: [{ name: "isolate", destructive: false, calls: [] }, { name: "terminate", destructive: true, calls: [] }] },
    });
    const release = await seedWaiting(db, {
      findingId: next(),
      step: "restore-security-groups",
      plan: { action: "release", steps: [{ name: "restore-security-groups", destructive: false, calls: [] }] },
    });
    const r = await expireApprovals(db.prisma, queues, { now: later(2 * HOUR), expiryMs: HOUR, onExpiry: "contain" });
    for (const id of [destructive, mixed, release]) {
      expect(r.expired).toContain(id);
      const s = await state(id);
      // Nothing runs; a release's resource simply stays contained.
      expect(s).toMatchObject({ status: id === release ? "succeeded" : "expired", outbox: [] });
      expect(s.approvals.map((a) => a.decision)).toEqual(["expired"]);
    }
  });

  it("contain: a plan held for a person (its reason) is never carried out on expiry: it expires as under cancel, and people hear why", async () => {
    const hold = "the live instance carries the exemption tag gdr:exempt";
    const held = await seedWaiting(db, {
      findingId: next(),
      mode: "auto",
      frozenMinutesAgo: 120,
      plan: { action: "continue", reason: hold, steps: [{ name: "isolate", destructive: false, calls: [] }] },
    });
    const plain = await seedWaiting(db, { findingId: next(), frozenMinutesAgo: 120 });
    const notified: NotificationEvent[] = [];
    const sweeper = startApprovalSweeper({
      prisma: db.prisma,
      queues,
      logger: createLogger({ level: "silent", name: "sweeper-test" }),
      approval: { expiry: "1h", expiryMs: HOUR, onExpiry: "contain" },
      intervalMs: 3_600_000,
      notifier: { notify: (event) => notified.push(event) },
      publicUrl: "https://responder.example.org/",
    });
    try {
      await sweeper.sweep();
    } finally {
      await sweeper.stop();
    }
    // The policy is in force (the plain plan was contained), yet the held one was not.
    expect((await state(plain)).approvals.map((a) => a.decision)).toEqual(["approved"]);
    const s = await state(held);
    const why = `not decided within 1h; held for a person (${hold}), so onExpiry: contain does not apply`;
    expect(s).toMatchObject({ status: "expired", error: `approval expired: ${why}`, outbox: [], audit: ["approval.expired"] });
    expect(s.approvals).toEqual([{ decision: "expired", actor: EXPIRY_ACTOR, reason: why }]);
    const step = await db.pool.query("SELECT status::text AS status FROM remediation_steps WHERE remediation_id = $1", [held]);
    expect(step.rows).toEqual([{ status: "pending" }]);
    expect(notified.filter((e) => e.remediationId === held)).toEqual([
      expect.objectContaining({ kind: "expired", detail: `approval not decided within 1h; nothing was changed; not contained on expiry, it was held for a person: ${hold}` }),
    ]);
  });

  it("a remediation whose fields no longer make a valid job: an approval is refused with nothing recorded, and the expiry's contain expires it instead of failing the sweep", async () => {
    const approved = await seedWaiting(db, { findingId: next() });
    const expiring = await seedWaiting(db, { findingId: next() });
    const fine = await seedWaiting(db, { findingId: next() });
    await db.pool.query("UPDATE remediations SET region = 'US EAST 1' WHERE id = ANY($1::uuid[])", [[approved, expiring]]);
    expect(await approveRemediation(db.prisma, queues, { remediationId: approved, actor: "token:alice", reason: "go", planHash: HASH })).toMatchObject({
      ok: false,
      error: "unqueueable",
      message: expect.stringMatching(/region/) as unknown,
    });
    expect(await state(approved)).toMatchObject({ status: "awaiting_approval", approvals: [], audit: [], outbox: [] });

    const r = await expireApprovals(db.prisma, queues, { now: later(2 * HOUR), expiryMs: HOUR, expiry: "1h", onExpiry: "contain" });
    expect(r.contained).toContain(fine);
    expect(r.expired).toContain(expiring);
    const s = await state(expiring);
    expect(s).toMatchObject({ status: "expired", outbox: [] });
    expect(s.approvals).toEqual([{ decision: "expired", actor: EXPIRY_ACTOR, reason: expect.stringMatching(/^not decided within 1h; not contained: its job cannot be built .*region/) as unknown }]);
  });

  it("a declined plan on a contained resource leaves it contained, and a plan frozen again later is decided anew", async () => {
    const release = await seedWaiting(db, {
      findingId: next(),
      step: "restore-security-groups",
      plan: { action: "release", steps: [{ name: "restore-security-groups", destructive: false, calls: [] }] },
    });
    const terminate = await seedWaiting(db, {
      findingId: next(),
      mode: "auto",
      step: "terminate",
      plan: { action: "continue", ifDeclined: "contained", steps: [{ name: "terminate", destructive: true, calls: [] }] },
    });
    const r = await expireApprovals(db.prisma, queues, { now: later(2 * HOUR), expiryMs: HOUR, expiry: "1h", onExpiry: "cancel" });
    for (const id of [release, terminate]) {
      expect(r.expired).toContain(id);
      // Contained, with no error: what GET /v1/remediations shows, and what a release starts from.
      expect(await state(id)).toMatchObject({ status: "succeeded", error: null, audit: ["approval.expired"] });
      const step = await db.pool.query("SELECT status::text AS status FROM remediation_steps WHERE remediation_id = $1", [id]);
      expect(step.rows).toEqual([{ status: "pending" }]);
    }

    // The worker freezes the release again (a new request): a plan of its own, decided on its own.
    const again = "d".repeat(64);
    await db.pool.query("UPDATE remediations SET status = 'awaiting_approval', plan_hash = $2 WHERE id = $1", [release, again]);
    await db.pool.query("UPDATE remediation_steps SET status = 'awaiting_approval' WHERE remediation_id = $1", [release]);
    const approval = await approveRemediation(db.prisma, queues, { remediationId: release, actor: "token:carol", reason: "false positive", planHash: again });
    expect(approval).toMatchObject({ ok: true, step: "restore-security-groups" });
    expect((await state(release)).approvals).toEqual([
      { decision: "expired", actor: EXPIRY_ACTOR, reason: "not decided within 1h" },
      { decision: "approved", actor: "token:carol", reason: "false positive" },
    ]);
  });
});

describe("approval sweeper", () => {
  it("reads WORKER_APPROVAL_SWEEP_MS in the worker's config, 30 s by default, and refuses nonsense", () => {
    const base = { DATABASE_URL: "postgresql://u@h/db", REDIS_URL: "redis://h:6379", AWS_REGION: "us-east-1" };
    expect(loadWorkerConfig(base).WORKER_APPROVAL_SWEEP_MS).toBe(30_000);
    expect(loadWorkerConfig({ ...base, WORKER_APPROVAL_SWEEP_MS: "5000" }).WORKER_APPROVAL_SWEEP_MS).toBe(5_000);
    expect(() => loadWorkerConfig({ ...base, WORKER_APPROVAL_SWEEP_MS: "5" })).toThrow(/WORKER_APPROVAL_SWEEP_MS: must be at least 1000/);
  });

  it("sweeps with the policy's settings: a 1m expiry ends a plan frozen 2 minutes ago, not one frozen now", async () => {
    const old = await seedWaiting(db, { findingId: next(), frozenMinutesAgo: 2 });
    const fresh = await seedWaiting(db, { findingId: next() });
    const notified: NotificationEvent[] = [];
    const sweeper = startApprovalSweeper({
      prisma: db.prisma,
      queues,
      logger: createLogger({ level: "silent", name: "sweeper-test" }),
      approval: { expiry: "1m", expiryMs: 60_000, onExpiry: "cancel" },
      intervalMs: 3_600_000,
      notifier: { notify: (event) => notified.push(event) },
      publicUrl: "https://responder.example.org/",
    });
    try {
      await sweeper.sweep();
      expect((await state(old)).status).toBe("expired");
      expect((await state(fresh)).status).toBe("awaiting_approval");
      // People hear about the expiry, with what it left behind and a link to the remediation.
      expect(notified).toEqual([
        expect.objectContaining({
          kind: "expired",
          remediationId: old,
          playbook: "instance",
          resourceKey: "i-0123456789abcdef0",
          detail: "approval not decided within 1m; nothing was changed",
          link: `https://responder.example.org/ui/#${old}`,
        }),
      ]);
    } finally {
      await sweeper.stop();
    }
  });
});
