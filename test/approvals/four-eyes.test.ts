// Four-eyes (API_FOUR_EYES=true) through the API on real Postgres and Redis: whoever asked for a
// release may not approve that release plan (409 same_actor); someone else may. Containment plans
// are frozen by the worker, so any approver may approve them.
import { createToken } from "@gdr/core/auth/tokens";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiWorld, type ApiWorld } from "../api/world.js";
import type { TestDatabase } from "../support/index.js";
import { findingId, HASH, seedWaiting } from "./seed.js";

let world: ApiWorld;
let db: TestDatabase;
let app: FastifyInstance;
const tokens = { alice: "", bob: "" };
const RELEASE_PLAN = { action: "release", steps: [{ name: "restore-security-groups", destructive: false, calls: [] }] };

beforeAll(async () => {
  world = await createApiWorld({ name: "four-eyes-test", fourEyes: true });
  ({ db, app } = world);
  tokens.alice = (await createToken(db.prisma, "alice", "approver")).token;
  tokens.bob = (await createToken(db.prisma, "bob", "approver")).token;
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

  it("lets anyone approve a containment plan (the worker froze it)", async () => {
    const id = await seedWaiting(db, { findingId: findingId(2) });
    const res = await approve(id, "alice");
    expect(res.statusCode, res.body).toBe(200);
  });
});
