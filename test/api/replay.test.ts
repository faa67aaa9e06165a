// POST /v1/findings: a finding submitted through the API takes the ingest path (same parser,
// policy and recordBatch), and POST /v1/remediations/:id/retry puts a failed remediation back on
// its queue. Real Postgres and Redis, app.inject.
import { eventBridgeEvent, instanceFinding, snsWrap } from "@gdr/samples/findings";
import type { Role } from "@gdr/core/auth/tokens";
import type { NotificationEvent } from "@gdr/core/notify/index";
import { queueFor, type RemediationQueues } from "@gdr/core/queues/queues";
import { PLAYBOOKS } from "@gdr/core/queues/playbooks";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestDatabase } from "../support/index.js";
import { createApiWorld, type ApiWorld } from "./world.js";

let db: TestDatabase;
let queues: RemediationQueues;
let app: FastifyInstance;
let tokens: Record<Role, string>;
let world: ApiWorld;
const notified: NotificationEvent[] = [];
const auth = (role: Role) => ({ authorization: `Bearer ${tokens[role]}` });

beforeAll(async () => {
  world = await createApiWorld({ name: "api-replay-test", notifier: { notify: (event) => void notified.push(event) } });
  ({ db, queues, app, tokens } = world);
});

afterAll(async () => {
  await world.close();
});

/** Every job in any playbook queue that belongs to this remediation. */
async function jobsOf(remediationId: string) {
  const all = await Promise.all(PLAYBOOKS.map((p) => queueFor(queues, p).getJobs(["waiting", "delayed", "active", "prioritized"])));
  return all.flat().filter((j) => (j.data as { remediationId?: string }).remediationId === remediationId);
}

const count = async (sql: string, params: unknown[] = []) => (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]?.n ?? -1;

const submit = (payload: string, role: Role = "admin") =>
  app.inject({ method: "POST", url: "/v1/findings", headers: { ...auth(role), "content-type": "application/json" }, payload });

describe("POST /v1/findings", () => {
  it("never answers that a remediation was queued when its outbox row was set aside: the receipt lists it, people are told", async () => {
    const body = JSON.stringify(eventBridgeEvent(instanceFinding({ severity: 8 })));
    const first = await submit(body);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({ outcome: "accepted", setAside: [] });
    const findingId = first.json<{ findingId: string }>().findingId;
    const r = await db.pool.query<{ id: string; job_id: string }>("SELECT id::text AS id, job_id FROM remediations WHERE finding_id = $1", [findingId]);
    const id = r.rows[0]?.id ?? "";
    // A pending row whose payload no longer passes the catalog (written before a pattern tightened).
    const payload = (await db.pool.query<{ payload: Record<string, unknown> }>("SELECT payload FROM outbox WHERE remediation_id = $1", [id])).rows[0]?.payload;
    await db.pool.query("INSERT INTO outbox (remediation_id, queue, job_id, payload) VALUES ($1, 'instance', $2, $3)", [
      id,
      `${r.rows[0]?.job_id ?? ""}-bad`,
      JSON.stringify({ ...payload, region: "us-east-1.evil.example" }),
    ]);

    const again = await submit(body);
    expect(again.json()).toMatchObject({ outcome: "duplicate", findingId, setAside: [{ remediationId: id, reason: expect.stringMatching(/region/) as unknown }] });
    const row = await db.pool.query<{ status: string; error: string }>("SELECT status::text AS status, error FROM remediations WHERE id = $1", [id]);
    expect(row.rows[0]?.status).toBe("failed");
    expect(row.rows[0]?.error).toMatch(/its job could not be queued .*region.*retry only once the cause is corrected/);
    expect(await count("audit_events WHERE remediation_id = $1::uuid AND action = 'outbox.set_aside'", [id])).toBe(1);
    expect(notified.filter((e) => e.remediationId === id).map((e) => e.kind)).toEqual(["failed"]);
  });

  it("tells people of an exempt outcome of a medium-or-higher finding submitted through the API, as ingest does", async () => {
    // A self-applied exempt tag downgrades containment to an approval request; whichever way the
    // finding arrived, people must hear of it (a workload that can tag itself is never silent).
    const detail = instanceFinding({ severity: 8, tags: [{ key: "guardduty-remediation", value: "exempt" }] });
    const res = await submit(JSON.stringify(eventBridgeEvent(detail)));
    expect(res.statusCode, res.body).toBe(201);
    const { findingId } = res.json<{ findingId: string }>();
    expect(notified.filter((e) => e.findingId === findingId).map((e) => [e.kind, e.mode])).toEqual([["exempt", "approval"]]);
  });

  it("needs the admin role", async () => {
    const body = JSON.stringify(eventBridgeEvent(instanceFinding({ severity: 8 })));
    expect((await app.inject({ method: "POST", url: "/v1/findings", headers: { "content-type": "application/json" }, payload: body })).statusCode).toBe(401);
    expect((await submit(body, "viewer")).statusCode).toBe(403);
    expect((await submit(body, "approver")).statusCode).toBe(403);
  });

  it("records a valid finding like ingest: remediation, one job; the same finding again is a duplicate", async () => {
    const body = JSON.stringify(eventBridgeEvent(instanceFinding({ severity: 8 })));
    const res = await submit(body);
    expect(res.statusCode, res.body).toBe(201);
    const receipt = res.json<{ messageId: string; outcome: string; reason: string; findingId: string; remediationsCreated: number }>();
    expect(receipt).toMatchObject({ outcome: "accepted", reason: "new_finding", remediationsCreated: 1 });
    expect(receipt.messageId).toMatch(/^api-[0-9a-f-]{36}$/);

    const remediations = await db.pool.query<{ id: string; job_id: string }>("SELECT id::text AS id, job_id FROM remediations WHERE finding_id = $1", [receipt.findingId]);
    expect(remediations.rows).toHaveLength(1);
    const remediation = remediations.rows[0];
    const jobs = await jobsOf(remediation?.id ?? "");
    expect(jobs.map((j) => j.id)).toEqual([remediation?.job_id]);
    expect(await count("outbox WHERE remediation_id = $1::uuid AND dispatched_at IS NULL", [remediation?.id])).toBe(0);
    expect(await count("ingest_receipts WHERE sqs_message_id = $1 AND outcome = 'accepted'", [receipt.messageId])).toBe(1);

    const again = await submit(body);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ outcome: "duplicate", reason: "same_version", findingId: receipt.findingId, remediationsCreated: 0 });
    expect(await count("remediations WHERE finding_id = $1", [receipt.findingId])).toBe(1);
    expect(await jobsOf(remediation?.id ?? "")).toHaveLength(1);
  });

  it("accepts the SNS-wrapped form too", async () => {
    const res = await submit(JSON.stringify(snsWrap(eventBridgeEvent(instanceFinding({ severity: 8 })))));
    expect(res.statusCode, res.body).toBe(201);
  });

  it("answers a hostile body 422 with the reason and creates no finding, remediation or job", async () => {
    const before = { findings: await count("findings"), remediations: await count("remediations"), outbox: await count("outbox") };
    const valid = JSON.stringify(eventBridgeEvent(instanceFinding({ severity: 8 })));
    const hostile = `{"__proto__":{"polluted":true},${valid.slice(1)}`;
    const res = await submit(hostile);
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ outcome: "rejected", reason: "hostile_key", findingId: null });
    expect({ findings: await count("findings"), remediations: await count("remediations"), outbox: await count("outbox") }).toEqual(before);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();

    const notJson = await submit("{not json");
    expect(notJson.statusCode).toBe(422);
    expect(notJson.json()).toMatchObject({ outcome: "rejected", reason: "not_json" });
  });

  it("answers an ignored finding 200 with the policy's reason", async () => {
    const res = await submit(JSON.stringify(eventBridgeEvent(instanceFinding({ severity: 8, archived: true }))));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ outcome: "ignored", reason: "archived" });
  });

  it("records the submitting token (token:<name>) on the receipt and in a finding.submitted audit event, for accepted and rejected bodies alike", async () => {
    const accepted = await submit(JSON.stringify(eventBridgeEvent(instanceFinding({ severity: 8 }))));
    expect(accepted.statusCode, accepted.body).toBe(201);
    const rejected = await submit('{"not":"a finding"}');
    expect(rejected.statusCode).toBe(422);
    for (const res of [accepted, rejected]) {
      const { messageId, findingId } = res.json<{ messageId: string; findingId: string | null }>();
      const receipt = await db.pool.query("SELECT submitted_by FROM ingest_receipts WHERE sqs_message_id = $1", [messageId]);
      expect(receipt.rows).toEqual([{ submitted_by: "token:t-admin" }]);
      const events = await db.pool.query("SELECT actor, finding_id FROM audit_events WHERE action = 'finding.submitted' AND detail->>'messageId' = $1", [messageId]);
      expect(events.rows).toEqual([{ actor: "token:t-admin", finding_id: findingId }]);
    }
  });

  it("refuses a body over the limit with 413", async () => {
    const res = await submit(`{"pad":"${"x".repeat(70_000)}"}`);
    expect(res.statusCode).toBe(413);
  });
});

describe("POST /v1/remediations/:id/retry", () => {
  async function failedRemediation(): Promise<{ id: string; jobId: string }> {
    const res = await submit(JSON.stringify(eventBridgeEvent(instanceFinding({ severity: 8 }))));
    const findingId = res.json<{ findingId: string }>().findingId;
    const r = await db.pool.query<{ id: string; job_id: string }>("SELECT id::text AS id, job_id FROM remediations WHERE finding_id = $1", [findingId]);
    const id = r.rows[0]?.id ?? "";
    // What the worker leaves behind when a step fails for good.
    await db.pool.query(`INSERT INTO remediation_steps (remediation_id, name, "order", status, attempts) VALUES ($1, 'identify', 0, 'succeeded', 1), ($1, 'isolate', 1, 'failed', 8)`, [id]);
    await db.pool.query("UPDATE remediations SET status = 'failed', error = 'isolate: AccessDenied', finished_at = now() WHERE id = $1", [id]);
    return { id, jobId: r.rows[0]?.job_id ?? "" };
  }

  it("answers 422 unqueueable, changing nothing, when the remediation's fields no longer make a valid job (a retry would rebuild the same payload)", async () => {
    const { id } = await failedRemediation();
    await db.pool.query("UPDATE remediations SET region = 'US EAST 1' WHERE id = $1", [id]);
    const outboxBefore = await count("outbox WHERE remediation_id = $1::uuid", [id]);
    const res = await app.inject({ method: "POST", url: `/v1/remediations/${id}/retry`, headers: auth("approver"), payload: { reason: "try again" } });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json()).toMatchObject({ error: "unqueueable", message: expect.stringMatching(/region/) as unknown });
    expect((await db.pool.query("SELECT status::text AS status, error FROM remediations WHERE id = $1", [id])).rows).toEqual([{ status: "failed", error: "isolate: AccessDenied" }]);
    expect(await count("outbox WHERE remediation_id = $1::uuid", [id])).toBe(outboxBefore);
    expect(await count("audit_events WHERE remediation_id = $1::uuid AND action = 'remediation.retried'", [id])).toBe(0);
    expect(await count("remediation_steps WHERE remediation_id = $1::uuid AND status = 'failed'", [id])).toBe(1);
  });

  it("needs the approver role and answers 409 unless the remediation failed", async () => {
    const { id } = await failedRemediation();
    await db.pool.query("UPDATE remediations SET status = 'succeeded' WHERE id = $1", [id]);
    const url = `/v1/remediations/${id}/retry`;
    expect((await app.inject({ method: "POST", url, payload: { reason: "try again" } })).statusCode).toBe(401);
    expect((await app.inject({ method: "POST", url, headers: auth("viewer"), payload: { reason: "try again" } })).statusCode).toBe(403);
    const res = await app.inject({ method: "POST", url, headers: auth("approver"), payload: { reason: "try again" } });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: "not_failed" });
    const missing = await app.inject({ method: "POST", url: "/v1/remediations/00000000-0000-4000-8000-000000000000/retry", headers: auth("approver"), payload: { reason: "try again" } });
    expect(missing.statusCode).toBe(404);
  });

  it("retries an escalated remediation (stopped for a person to look) like a failed one: queued again, one new job", async () => {
    const { id, jobId } = await failedRemediation();
    await db.pool.query("UPDATE remediations SET status = 'escalated' WHERE id = $1", [id]);
    const res = await app.inject({ method: "POST", url: `/v1/remediations/${id}/retry`, headers: auth("approver"), payload: { reason: "confirmed with GuardDuty by hand" } });
    expect(res.statusCode, res.body).toBe(200);
    expect((await db.pool.query("SELECT status::text AS status FROM remediations WHERE id = $1", [id])).rows).toEqual([{ status: "queued" }]);
    const audit = await db.pool.query("SELECT detail->>'from' AS from FROM audit_events WHERE remediation_id = $1::uuid AND action = 'remediation.retried'", [id]);
    expect(audit.rows).toEqual([{ from: "escalated" }]);
    expect((await jobsOf(id)).map((j) => j.id)).toContain(`${jobId}-retry-1`);
  });

  it("resets the failed step, queues the remediation, records the actor and enqueues exactly one new job", async () => {
    const { id, jobId } = await failedRemediation();
    const before = await jobsOf(id);
    const res = await app.inject({ method: "POST", url: `/v1/remediations/${id}/retry`, headers: auth("approver"), payload: { reason: "permissions fixed" } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ remediationId: id, steps: ["isolate"], jobId: `${jobId}-retry-1` });

    const r = await db.pool.query("SELECT status::text AS status, error FROM remediations WHERE id = $1", [id]);
    expect(r.rows[0]).toEqual({ status: "queued", error: null });
    const steps = await db.pool.query(`SELECT name, status::text AS status FROM remediation_steps WHERE remediation_id = $1 ORDER BY "order"`, [id]);
    expect(steps.rows).toEqual([{ name: "identify", status: "succeeded" }, { name: "isolate", status: "pending" }]);
    const audit = await db.pool.query("SELECT actor, detail FROM audit_events WHERE remediation_id = $1::uuid AND action = 'remediation.retried'", [id]);
    expect(audit.rows).toEqual([{ actor: "token:t-approver", detail: { reason: "permissions fixed", from: "failed", steps: ["isolate"], jobId: `${jobId}-retry-1` } }]);

    const after = await jobsOf(id);
    const added = after.filter((j) => !before.some((b) => b.id === j.id));
    expect(added.map((j) => j.id)).toEqual([`${jobId}-retry-1`]);
    expect(added[0]?.data).toMatchObject({ remediationId: id, action: "contain" });

    // Now queued, not failed: a second retry is a conflict and adds nothing.
    const second = await app.inject({ method: "POST", url: `/v1/remediations/${id}/retry`, headers: auth("admin"), payload: { reason: "again" } });
    expect(second.statusCode).toBe(409);
    expect(await jobsOf(id)).toHaveLength(after.length);
  });

  it("voids the approved plan and starts the recovery count over: the retried job asks again, its approval stays in the history", async () => {
    const { id } = await failedRemediation();
    // Failed after a person approved its plan, and after the reconciler had recovered it 5 times.
    const plan = { action: "continue", steps: [{ name: "isolate", destructive: false }] };
    await db.pool.query("UPDATE remediations SET plan = $2::jsonb, plan_hash = 'h-approved', recoveries = 5 WHERE id = $1", [id, JSON.stringify(plan)]);
    await db.pool.query("INSERT INTO approvals (id, remediation_id, step, decision, actor, reason, plan_hash, expires_at) VALUES (gen_random_uuid(), $1, 'isolate', 'approved', 'token:alice', 'ok', 'h-approved', now())", [id]);
    const res = await app.inject({ method: "POST", url: `/v1/remediations/${id}/retry`, headers: auth("approver"), payload: { reason: "permissions fixed" } });
    expect(res.statusCode, res.body).toBe(200);
    const r = await db.pool.query("SELECT status::text AS status, plan, plan_hash, recoveries FROM remediations WHERE id = $1", [id]);
    expect(r.rows[0]).toEqual({ status: "queued", plan: null, plan_hash: null, recoveries: 0 });
    expect(await count("approvals WHERE remediation_id = $1 AND plan_hash = 'h-approved'", [id])).toBe(1);
  });
});
