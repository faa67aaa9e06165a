// Four-eyes (API_FOUR_EYES=true) through the API on real Postgres and Redis: whoever asked for a
// release may not approve that release plan (409 same_actor); someone else may. On a destructive
// plan, neither may whoever submitted its finding (POST /v1/findings) nor whoever asked for the
// retry that led to it. Containment plans of findings from SQS are frozen by the worker, so any
// approver may approve them.
import { createToken } from "@gdr/core/auth/tokens";
import { eventBridgeEvent, instanceFinding } from "@gdr/samples/findings";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiWorld, type ApiWorld } from "../api/world.js";
import type { TestDatabase } from "../support/index.js";
import { findingId, HASH, seedWaiting } from "./seed.js";

let world: ApiWorld;
let db: TestDatabase;
let app: FastifyInstance;
const tokens = { alice: "", bob: "", carol: "", dave: "" };
const DESTRUCTIVE_PLAN = { action: "continue", steps: [{ name: "terminate", destructive: true, calls: [] }] };
const CONTAINMENT_PLAN = { action: "continue", steps: [{ name: "isolate", destructive: false, calls: [] }] };
const RELEASE_PLAN = { action: "release", steps: [{ name: "restore-security-groups", destructive: false, calls: [] }] };

beforeAll(async () => {
  world = await createApiWorld({ name: "four-eyes-test", fourEyes: true });
  ({ db, app } = world);
  tokens.alice = (await createToken(db.prisma, "alice", "approver")).token;
  tokens.bob = (await createToken(db.prisma, "bob", "approver")).token;
  // An admin: may submit findings (POST /v1/findings) and approve.
  tokens.carol = (await createToken(db.prisma, "carol", "admin")).token;
  tokens.dave = (await createToken(db.prisma, "dave", "admin")).token;
});

afterAll(async () => {
  await world.close();
});

const as = (who: keyof typeof tokens) => ({ authorization: `Bearer ${tokens[who]}` });
const approve = (id: string, who: keyof typeof tokens) =>
  app.inject({ method: "POST", url: `/v1/remediations/${id}/approve`, headers: as(who), payload: { reason: "checked", planHash: HASH } });

/** A contained remediation whose release `who` requests through the API; the worker then freezes the release plan. */
async function releaseRequestedBy(who: keyof typeof tokens, n: number): Promise<string> {
  const id = await seedWaiting(db, { findingId: findingId(n), step: "restore-security-groups", plan: RELEASE_PLAN });
  await db.pool.query("UPDATE remediations SET status = 'succeeded' WHERE id = $1", [id]);
  const res = await app.inject({ method: "POST", url: `/v1/remediations/${id}/release`, headers: as(who), payload: { reason: "cleaned up" } });
  expect(res.statusCode, res.body).toBe(200);
  await db.pool.query("UPDATE remediations SET status = 'awaiting_approval' WHERE id = $1", [id]);
  return id;
}

describe("four-eyes", () => {
  it("refuses the requester's own approval of a release with 409 same_actor, and records nothing", async () => {
    const id = await releaseRequestedBy("alice", 1);
    const res = await approve(id, "alice");
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: "same_actor" });
    expect((await db.pool.query("SELECT count(*)::int AS n FROM approvals WHERE remediation_id = $1", [id])).rows[0]).toEqual({ n: 0 });

    const other = await approve(id, "bob");
    expect(other.statusCode, other.body).toBe(200);
    expect((await db.pool.query("SELECT actor FROM approvals WHERE remediation_id = $1", [id])).rows).toEqual([{ actor: "token:bob" }]);
  });

  it("refuses every requester of a release requested twice before its plan was frozen, not only the latest; another approver may", async () => {
    const id = await releaseRequestedBy("alice", 41);
    await db.pool.query("UPDATE remediations SET status = 'succeeded' WHERE id = $1", [id]);
    const second = await app.inject({ method: "POST", url: `/v1/remediations/${id}/release`, headers: as("bob"), payload: { reason: "me too" } });
    expect(second.statusCode, second.body).toBe(200);
    await db.pool.query("UPDATE remediations SET status = 'awaiting_approval' WHERE id = $1", [id]);

    for (const who of ["alice", "bob"] as const) {
      const res = await approve(id, who);
      expect(res.statusCode, `${who}: ${res.body}`).toBe(409);
      expect(res.json()).toMatchObject({ error: "same_actor" });
    }
    expect((await db.pool.query("SELECT count(*)::int AS n FROM approvals WHERE remediation_id = $1", [id])).rows[0]).toEqual({ n: 0 });

    const byCarol = await approve(id, "carol");
    expect(byCarol.statusCode, byCarol.body).toBe(200);
  });

  it("lets anyone approve a containment plan (the worker froze it)", async () => {
    const id = await seedWaiting(db, { findingId: findingId(2) });
    const res = await approve(id, "alice");
    expect(res.statusCode, res.body).toBe(200);
  });

  it("refuses the submitter's own approval of a destructive plan on the finding they submitted; another approver may", async () => {
    const id = await submittedBy("carol", "four-eyes-3", DESTRUCTIVE_PLAN);
    const res = await approve(id, "carol");
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: "same_actor", message: expect.stringContaining("submitted the finding") as unknown });
    expect((await db.pool.query("SELECT count(*)::int AS n FROM approvals WHERE remediation_id = $1", [id])).rows[0]).toEqual({ n: 0 });
    expect((await db.pool.query("SELECT status::text FROM remediations WHERE id = $1", [id])).rows[0]).toEqual({ status: "awaiting_approval" });

    const other = await approve(id, "bob");
    expect(other.statusCode, other.body).toBe(200);
  });

  it("refuses the submitter of any delivery of the finding, not only the first", async () => {
    const id = await submittedBy("dave", "four-eyes-4", DESTRUCTIVE_PLAN);
    // The same finding again (a later version), from carol: a second receipt of it, naming her.
    const again = await submit("carol", "four-eyes-4");
    expect(again.json(), again.body).toMatchObject({ remediationsCreated: 0 });
    expect((await db.pool.query("SELECT submitted_by FROM ingest_receipts WHERE finding_id = (SELECT finding_id FROM remediations WHERE id = $1) ORDER BY id", [id])).rows).toEqual([
      { submitted_by: "token:dave" },
      { submitted_by: "token:carol" },
    ]);
    expect((await approve(id, "carol")).statusCode).toBe(409);
  });

  it("lets the submitter approve a non-destructive containment plan (four-eyes guards destructive plans)", async () => {
    const id = await submittedBy("carol", "four-eyes-5", CONTAINMENT_PLAN);
    const res = await approve(id, "carol");
    expect(res.statusCode, res.body).toBe(200);
  });

  it("refuses the approval of a destructive plan by whoever requested the retry that led to it", async () => {
    const id = await seedWaiting(db, { findingId: findingId(6), step: "terminate", plan: DESTRUCTIVE_PLAN });
    await db.pool.query("UPDATE remediations SET status = 'failed' WHERE id = $1", [id]);
    const retry = await app.inject({ method: "POST", url: `/v1/remediations/${id}/retry`, headers: as("alice"), payload: { reason: "transient error" } });
    expect(retry.statusCode, retry.body).toBe(200);
    // The worker ran it again and froze the destructive plan (a retry voids the frozen plan).
    await db.pool.query("UPDATE remediations SET status = 'awaiting_approval', plan = $2::jsonb, plan_hash = $3 WHERE id = $1", [id, JSON.stringify(DESTRUCTIVE_PLAN), HASH]);

    const res = await approve(id, "alice");
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: "same_actor", message: expect.stringContaining("retry") as unknown });
    expect((await approve(id, "bob")).statusCode).toBe(200);
  });
});

const submit = (who: keyof typeof tokens, seed: string) =>
  app.inject({
    method: "POST",
    url: "/v1/findings",
    headers: { ...as(who), "content-type": "application/json" },
    payload: JSON.stringify(eventBridgeEvent(instanceFinding({ severity: 8, seed }))),
  });

/**
 * A finding `who` submitted through the API, whose remediation the worker has since run up to a
 * plan waiting for approval (written as the worker's store writes it).
 */
async function submittedBy(who: keyof typeof tokens, seed: string, plan: object): Promise<string> {
  const res = await submit(who, seed);
  expect(res.statusCode, res.body).toBe(201);
  const findingId = res.json<{ findingId: string }>().findingId;
  const r = await db.pool.query<{ id: string }>(
    "UPDATE remediations SET status = 'awaiting_approval', plan = $2, plan_hash = $3 WHERE finding_id = $1 RETURNING id::text AS id",
    [findingId, JSON.stringify(plan), HASH],
  );
  const id = r.rows[0]?.id ?? "";
  await db.pool.query(`INSERT INTO remediation_steps (remediation_id, name, "order", status) VALUES ($1, 'terminate', 9, 'awaiting_approval')`, [id]);
  return id;
}
