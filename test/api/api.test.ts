// The API on real Postgres and Redis (app.inject, no listening socket): every route's auth matrix,
// approval semantics (stale plan hash, double approval, reject), pagination, errors, OpenAPI.
import { Queue } from "bullmq";
import { createToken, type Role } from "@gdr/core/auth/tokens";
import { PLAYBOOKS } from "@gdr/core/queues/playbooks";
import { createPauseSwitch } from "@gdr/core/control/pause";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestDatabase, TestRedis } from "../support/index.js";
import { createApiWorld, type ApiWorld } from "./world.js";

let db: TestDatabase;
let redis: TestRedis;
let app: FastifyInstance;
let tokens: Record<Role, string>;
let world: ApiWorld;
const HASH = "a".repeat(64);

async function seedWaitingRemediation(findingId: string): Promise<string> {
  await db.pool.query(
    `INSERT INTO findings (id, arn, account_id, region, partition, type, severity, title, resource_type, resource_key, count, archived, sample, gd_created_at, gd_updated_at, raw)
     VALUES ($1, 'arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/' || $1, '123456789012', 'us-east-1', 'aws', 'Execution:Runtime/NewBinaryExecuted', 8, 't', 'Instance', 'i-0123456789abcdef0', 1, false, false, now(), now(), '{}')`,
    [findingId],
  );
  const r = await db.pool.query<{ id: string }>(
    `INSERT INTO remediations (id, finding_id, playbook, resource_key, account_id, region, mode, status, rule_name, job_id, plan, plan_hash, updated_at)
     VALUES (gen_random_uuid(), $1, 'instance', 'i-0123456789abcdef0', '123456789012', 'us-east-1', 'approval', 'awaiting_approval', 'r', 'j-' || $1, '{"action":"continue","steps":[]}', $2, now())
     RETURNING id::text AS id`,
    [findingId, HASH],
  );
  const id = r.rows[0]?.id ?? "";
  await db.pool.query(`INSERT INTO remediation_steps (remediation_id, name, "order", status) VALUES ($1, 'leave-auto-scaling', 1, 'awaiting_approval')`, [id]);
  return id;
}

const auth = (role: Role | null): Record<string, string> => (role ? { authorization: `Bearer ${tokens[role]}` } : {});
const findingId = (n: number) => n.toString(16).padStart(32, "0");

beforeAll(async () => {
  world = await createApiWorld({
    name: "api-test",
    checks: {
      postgres: async () => {
        await db.pool.query("SELECT 1");
      },
    },
  });
  ({ db, redis, app, tokens } = world);
});

afterAll(async () => {
  await world.close();
});

describe("auth matrix", () => {
  const routes: { method: "GET" | "POST"; url: string; needs: Role; body?: object }[] = [
    { method: "GET", url: "/v1/findings", needs: "viewer" },
    { method: "GET", url: `/v1/findings/${findingId(999)}`, needs: "viewer" },
    { method: "GET", url: "/v1/remediations", needs: "viewer" },
    { method: "GET", url: "/v1/remediations/00000000-0000-4000-8000-000000000000", needs: "viewer" },
    { method: "POST", url: "/v1/remediations/00000000-0000-4000-8000-000000000000/approve", needs: "approver", body: { reason: "looks right", planHash: HASH } },
    { method: "POST", url: "/v1/remediations/00000000-0000-4000-8000-000000000000/reject", needs: "approver", body: { reason: "false positive", planHash: HASH } },
    { method: "POST", url: "/v1/remediations/00000000-0000-4000-8000-000000000000/release", needs: "approver", body: { reason: "cleaned" } },
    { method: "GET", url: "/v1/pause", needs: "viewer" },
    { method: "POST", url: "/v1/pause", needs: "admin", body: { paused: false, reason: "test run" } },
    { method: "GET", url: "/v1/policy", needs: "viewer" },
    { method: "POST", url: "/v1/remediations/00000000-0000-4000-8000-000000000000/retry", needs: "approver", body: { reason: "try again" } },
    { method: "POST", url: "/v1/findings", needs: "admin", body: { not: "a finding" } },
    // Operations and docs: every route but /healthz needs a token.
    { method: "GET", url: "/readyz", needs: "viewer" },
    { method: "GET", url: "/metrics", needs: "viewer" },
    { method: "GET", url: "/docs/json", needs: "viewer" },
    { method: "GET", url: "/docs", needs: "viewer" },
  ];
  const order: Role[] = ["viewer", "approver", "admin"];

  for (const route of routes) {
    it(`${route.method} ${route.url.replace(/[0-9a-f-]{32,}/, ":id")} needs ${route.needs}`, async () => {
      const send = (headers: Record<string, string>) => app.inject({ method: route.method, url: route.url, headers, ...(route.body ? { payload: route.body } : {}) });
      const none = await send({});
      expect(none.statusCode).toBe(401);
      expect(none.json()).toMatchObject({ error: "unauthorized", requestId: expect.any(String) as unknown });
      expect((await send({ authorization: "Bearer gdr_not-a-real-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" })).statusCode).toBe(401);
      for (const role of order) {
        const res = await send(auth(role));
        if (order.indexOf(role) < order.indexOf(route.needs)) expect(res.statusCode, role).toBe(403);
        // Past auth: the route's own answer (an unknown id, a body that is not a finding, a redirect to the docs page).
        else expect([200, 302, 404, 409, 422], `${role}: ${res.body}`).toContain(res.statusCode);
      }
    });
  }

  it("serves /healthz without a token, saying nothing; /readyz reports its checks to a viewer", async () => {
    const health = await app.inject({ method: "GET", url: "/healthz" });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: "ok" });
    const ready = await app.inject({ method: "GET", url: "/readyz", headers: auth("viewer") });
    expect(ready.json()).toEqual({ status: "ready", checks: { postgres: { ok: true } } });
  });

  it("lets a browser open the docs with the token as the Basic password, and refuses cross-site requests", async () => {
    const basic = (token: string) => ({ authorization: `Basic ${Buffer.from(`me:${token}`).toString("base64")}` });
    const none = await app.inject({ method: "GET", url: "/docs/json" });
    expect(none.statusCode).toBe(401);
    expect(none.headers["www-authenticate"]).toMatch(/^Basic realm=/);
    const doc = await app.inject({ method: "GET", url: "/docs/json", headers: basic(tokens.viewer) });
    expect(doc.statusCode).toBe(200);
    expect(doc.json()).toMatchObject({ openapi: expect.stringMatching(/^3\./) as unknown });
    expect((await app.inject({ method: "GET", url: "/docs/json", headers: { ...basic(tokens.viewer), "sec-fetch-site": "cross-site" } })).statusCode).toBe(403);
    // Basic is for browser pages only: the API's own routes take a bearer token.
    expect((await app.inject({ method: "GET", url: "/v1/policy", headers: basic(tokens.admin) })).statusCode).toBe(401);
  });

  it("refuses a revoked token", async () => {
    const { token } = await createToken(db.prisma, "to-revoke", "admin");
    expect((await app.inject({ method: "GET", url: "/v1/pause", headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    await db.pool.query("UPDATE api_tokens SET revoked_at = now() WHERE name = 'to-revoke'");
    expect((await app.inject({ method: "GET", url: "/v1/pause", headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(401);
  });
});

describe("approvals", () => {
  it("refuses a stale plan hash with 409 and enqueues nothing", async () => {
    const id = await seedWaitingRemediation(findingId(1));
    const res = await app.inject({ method: "POST", url: `/v1/remediations/${id}/approve`, headers: auth("approver"), payload: { reason: "looks right", planHash: "b".repeat(64) } });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: "plan_changed" });
    expect((await db.pool.query("SELECT count(*)::int AS n FROM approvals WHERE remediation_id = $1", [id])).rows[0]).toEqual({ n: 0 });
  });

  it("resolves two concurrent approvals to one decision and one continuation job", async () => {
    const id = await seedWaitingRemediation(findingId(2));
    const body = { reason: "contain it", planHash: HASH };
    const [a, b] = await Promise.all([
      app.inject({ method: "POST", url: `/v1/remediations/${id}/approve`, headers: auth("approver"), payload: body }),
      app.inject({ method: "POST", url: `/v1/remediations/${id}/approve`, headers: auth("admin"), payload: body }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);
    const approvals = await db.pool.query<{ actor: string; decision: string; plan_hash: string }>("SELECT actor, decision::text, plan_hash FROM approvals WHERE remediation_id = $1", [id]);
    expect(approvals.rows).toHaveLength(1);
    expect(approvals.rows[0]).toMatchObject({ decision: "approved", plan_hash: HASH });
    const queue = new Queue("instance", { connection: redis.connection, prefix: redis.prefix });
    const jobs = (await queue.getJobs(["waiting", "delayed", "active"])).filter((j) => (j.data as { remediationId?: string }).remediationId === id);
    await queue.close();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.data).toMatchObject({ action: "continue", remediationId: id });
    const audit = await db.pool.query("SELECT actor, action FROM audit_events WHERE remediation_id = $1::uuid AND action = 'approval.approved'", [id]);
    expect(audit.rows).toHaveLength(1);
  });

  it("rejects: the remediation ends rejected, with the actor and reason on record", async () => {
    const id = await seedWaitingRemediation(findingId(3));
    const res = await app.inject({ method: "POST", url: `/v1/remediations/${id}/reject`, headers: auth("approver"), payload: { reason: "false positive", planHash: HASH } });
    expect(res.statusCode).toBe(200);
    const r = await app.inject({ method: "GET", url: `/v1/remediations/${id}`, headers: auth("viewer") });
    expect(r.json()).toMatchObject({ status: "rejected", approvals: [{ decision: "rejected", actor: "token:t-approver", reason: "false positive" }] });
  });

  it("requires a reason", async () => {
    const id = await seedWaitingRemediation(findingId(4));
    const res = await app.inject({ method: "POST", url: `/v1/remediations/${id}/approve`, headers: auth("approver"), payload: { planHash: HASH } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: "invalid_request" });
  });
});

describe("reading", () => {
  it("pages findings with an opaque cursor, newest first, without repeats", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/findings?limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const res = await app.inject({ method: "GET", url, headers: auth("viewer") });
      expect(res.statusCode).toBe(200);
      const page: { items: { id: string }[]; nextCursor: string | null } = res.json();
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    const all = await db.pool.query<{ id: string }>("SELECT id FROM findings ORDER BY gd_updated_at DESC, id DESC");
    expect(seen).toEqual(all.rows.map((r) => r.id));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("answers 404 and 400 in the common error shape", async () => {
    const missing = await app.inject({ method: "GET", url: `/v1/findings/${findingId(999)}`, headers: auth("viewer") });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: "not_found", message: expect.any(String) as unknown, requestId: expect.any(String) as unknown });
    const bad = await app.inject({ method: "GET", url: "/v1/remediations/not-a-uuid", headers: auth("viewer") });
    expect(bad.statusCode).toBe(400);
    const cursor = await app.inject({ method: "GET", url: "/v1/findings?cursor=garbage", headers: auth("viewer") });
    expect(cursor.json()).toMatchObject({ error: "invalid_cursor" });
  });

  it("answers what each step really did (unavailable with its reason, verified) and the frozen plan as core types it", async () => {
    const id = await seedWaitingRemediation(findingId(5));
    const plan = {
      remediationId: id,
      action: "continue",
      frozenAt: "2026-01-02T03:04:05.678Z",
      ifDeclined: "contained",
      steps: [{ name: "deactivate-key", destructive: false, calls: [{ service: "iam", operation: "UpdateAccessKey", params: { UserName: "alice", AccessKeyId: "AKIAEXAMPLE", Status: "Inactive" } }] }],
    };
    await db.pool.query("UPDATE remediations SET plan = $2 WHERE id = $1", [id, JSON.stringify(plan)]);
    const reason = "StartMalwareScan is not available in this region: BadRequestException";
    await db.pool.query(
      `INSERT INTO remediation_steps (remediation_id, name, "order", status, attempts, output) VALUES
         ($1, 'malware-scan', 8, 'unavailable', 1, $2), ($1, 'verify', 9, 'verified', 1, '{}')`,
      [id, JSON.stringify({ started: false, reason })],
    );
    await db.pool.query(
      `INSERT INTO audit_events (actor, action, remediation_id, detail) VALUES
         ('worker', 'step.unavailable', $1, $2), ('worker', 'step.verified', $1, '{"step":"verify","note":"verified"}')`,
      [id, JSON.stringify({ step: "malware-scan", note: reason })],
    );
    const res = await app.inject({ method: "GET", url: `/v1/remediations/${id}`, headers: auth("viewer") });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ plan: unknown; planProblem: string | null; steps: { name: string; status: string; note: string | null; output: unknown }[] }>();
    expect(body.steps.map((s) => ({ name: s.name, status: s.status, note: s.note }))).toEqual([
      { name: "leave-auto-scaling", status: "awaiting_approval", note: null },
      { name: "malware-scan", status: "unavailable", note: reason },
      { name: "verify", status: "verified", note: "verified" },
    ]);
    expect(body.steps[1]?.output).toEqual({ started: false, reason });
    expect(body.plan).toEqual(plan);
    expect(body.planProblem).toBeNull();

    // A stored plan that is not of the plan type is not passed on as one: null, with the reason.
    await db.pool.query(`UPDATE remediations SET plan = '{"action":"continue","steps":[]}' WHERE id = $1`, [id]);
    const unreadable = (await app.inject({ method: "GET", url: `/v1/remediations/${id}`, headers: auth("viewer") })).json<{ plan: unknown; planProblem: string | null }>();
    expect(unreadable.plan).toBeNull();
    expect(unreadable.planProblem).toMatch(/neither a frozen plan nor a dry-run record/);
  });

  it("pauses and resumes the workers, recording who did it", async () => {
    const before = (await db.pool.query<{ n: string }>("SELECT coalesce(max(id), 0)::text AS n FROM audit_events")).rows[0]?.n ?? "0";
    const paused = await app.inject({ method: "POST", url: "/v1/pause", headers: auth("admin"), payload: { paused: true, reason: "investigating" } });
    expect(paused.json()).toMatchObject({ paused: true, by: "token:t-admin", reason: "investigating" });
    expect((await createPauseSwitch(redis.connection, { queuePrefix: redis.prefix, prisma: db.prisma }).isPaused()).paused).toBe(true);
    const resumed = await app.inject({ method: "POST", url: "/v1/pause", headers: auth("admin"), payload: { paused: false, reason: "done" } });
    expect(resumed.json()).toMatchObject({ paused: false });
    const audit = await db.pool.query<{ action: string }>("SELECT action FROM audit_events WHERE action LIKE 'workers.%' AND id > $1 ORDER BY id", [before]);
    expect(audit.rows.map((r) => r.action)).toEqual(["workers.paused", "workers.resumed"]);
  });
});

describe("OpenAPI", () => {
  it("documents every /v1 route the app serves", async () => {
    const doc = (await app.inject({ method: "GET", url: "/docs/json", headers: auth("viewer") })).json<{ paths: Record<string, Record<string, unknown>> }>();
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    for (const route of ["GET /v1/findings", "GET /v1/findings/{id}", "GET /v1/remediations", "GET /v1/remediations/{id}", "POST /v1/remediations/{id}/approve", "POST /v1/remediations/{id}/reject", "POST /v1/remediations/{id}/release", "GET /v1/pause", "POST /v1/pause", "GET /v1/policy"]) {
      expect(documented).toContain(route);
    }
    expect(PLAYBOOKS.length).toBeGreaterThan(0);
  });

  it("names the frozen plan's type and every step status the database has", async () => {
    const doc = (await app.inject({ method: "GET", url: "/docs/json", headers: auth("viewer") })).json<{ components: { schemas: Record<string, { properties?: Record<string, unknown> }> } }>();
    expect(Object.keys(doc.components.schemas.FrozenPlan?.properties ?? {})).toEqual(["remediationId", "action", "frozenAt", "ifDeclined", "releaseFrom", "reason", "steps"]);
    const text = JSON.stringify(doc);
    expect(text).toContain(JSON.stringify(["pending", "running", "succeeded", "skipped", "failed", "awaiting_approval", "unavailable", "verified"]));
  });
});
