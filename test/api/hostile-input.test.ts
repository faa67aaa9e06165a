// Hostile query strings and bodies on every /v1 input (app.inject, real Postgres and Redis): a NUL
// or other control character, a date outside what Postgres and the API handle, and crafted
// pagination cursors are the caller's mistake (400), never a database error (500).
import type { Role } from "@gdr/core/auth/tokens";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiWorld, type ApiWorld } from "./world.js";

let world: ApiWorld;
let app: FastifyInstance;
const auth = (role: Role) => ({ authorization: `Bearer ${world.tokens[role]}` });
const cursorOf = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const UUID = "00000000-0000-4000-8000-000000000000";

/** A GuardDuty-shaped finding id (32 hex), the one finding seeded. */
const FINDING = "0f100000000000000000000000000000";

beforeAll(async () => {
  world = await createApiWorld({ name: "api-hostile-input-test" });
  app = world.app;
  // One finding and one remediation, so that a filter or cursor that reached the query would run
  // against rows (an empty table can hide an error).
  await world.db.pool.query(
    `INSERT INTO findings (id, arn, account_id, region, partition, type, severity, title, resource_type, resource_key, count, archived, sample, gd_created_at, gd_updated_at, raw)
     VALUES ('0f100000000000000000000000000000', 'arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/0f100000000000000000000000000000', '123456789012', 'us-east-1', 'aws', 'Execution:Runtime/NewBinaryExecuted', 8, 't', 'Instance', 'i-0123456789abcdef0', 1, false, false, now(), now(), '{}')`,
  );
  await world.db.pool.query(
    `INSERT INTO remediations (id, finding_id, playbook, resource_key, account_id, region, mode, status, rule_name, job_id, updated_at)
     VALUES (gen_random_uuid(), '0f100000000000000000000000000000', 'instance', 'i-0123456789abcdef0', '123456789012', 'us-east-1', 'auto', 'succeeded', 'r', 'j-0f100000000000000000000000000000', now())`,
  );
});

afterAll(async () => {
  await world.close();
});

/** GET as a viewer; the answer must be a 400 with the API's error body. */
async function expect400(url: string): Promise<string> {
  const res = await app.inject({ method: "GET", url, headers: auth("viewer") });
  expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
  const body = res.json<{ error: string; requestId: string }>();
  expect(body.requestId).toEqual(expect.any(String));
  return body.error;
}

describe("query strings", () => {
  const controls = ["%00", "%01", "%0A", "%1B", "%7F", "%C2%85"];
  const filters: [string, string][] = [
    ["/v1/findings", "type"],
    ["/v1/findings", "resourceType"],
    ["/v1/findings", "resourceKey"],
    ["/v1/findings", "accountId"],
    ["/v1/findings", "status"],
    ["/v1/findings", "since"],
    ["/v1/findings", "cursor"],
    ["/v1/remediations", "playbook"],
    ["/v1/remediations", "accountId"],
    ["/v1/remediations", "findingId"],
    ["/v1/remediations", "status"],
    ["/v1/remediations", "cursor"],
  ];

  it("answers 400 for a NUL or other control character in any filter of GET /v1/findings and /v1/remediations", async () => {
    for (const [path, name] of filters) {
      for (const control of controls) await expect400(`${path}?${name}=a${control}b`);
    }
  });

  it("still finds rows with a clean filter (the 400s above are the control characters, not the filters)", async () => {
    const res = await app.inject({ method: "GET", url: "/v1/findings?type=Execution:Runtime/NewBinaryExecuted&resourceKey=i-0123456789abcdef0", headers: auth("viewer") });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ items: unknown[] }>().items).toHaveLength(1);
  });

  it("answers 400 for since/until outside years 1 to 9999, which JavaScript's Date accepts and timestamptz or the API's ISO answers do not", async () => {
    for (const date of ["300000", "12345", "+275760-09-13T00:00:00.000Z", "-000001-01-01T00:00:00Z", "-271821-04-20T00:00:00Z", "not-a-date"]) {
      await expect400(`/v1/findings?since=${encodeURIComponent(date)}`);
      await expect400(`/v1/findings?until=${encodeURIComponent(date)}`);
    }
    const inRange = await app.inject({ method: "GET", url: "/v1/findings?since=0001-01-01T00:00:00Z&until=9999-12-31T00:00:00Z", headers: auth("viewer") });
    expect(inRange.statusCode).toBe(200);
  });

  it("answers 400 for a crafted cursor: not an array, an invalid or out-of-range date, a huge string, an id of the wrong kind", async () => {
    const at = new Date().toISOString();
    const crafted = [
      cursorOf({ at, id: FINDING }),
      cursorOf("just a string"),
      cursorOf(42),
      cursorOf(null),
      cursorOf([at]),
      cursorOf([at, FINDING, "extra"]),
      cursorOf(["not a date", FINDING]),
      cursorOf(["2026-02-31T00:00:00.000Z", FINDING]),
      cursorOf(["+275760-09-13T00:00:00.000Z", FINDING]),
      cursorOf(["-000001-01-01T00:00:00.000Z", FINDING]),
      cursorOf([1_700_000_000_000, FINDING]),
      cursorOf([at, 7]),
      cursorOf([at, "x".repeat(140)]),
      cursorOf([at, "f1\u0000"]),
      cursorOf([at, "a'; DROP TABLE findings; --"]),
      cursorOf("[".repeat(100)),
      "A".repeat(201),
      "not base64url!",
    ];
    for (const cursor of crafted) {
      await expect400(`/v1/findings?cursor=${encodeURIComponent(cursor)}`);
      await expect400(`/v1/remediations?cursor=${encodeURIComponent(cursor)}`);
    }
    // Well-formed for findings (a finding id) but not for remediations (their ids are uuids).
    expect(await expect400(`/v1/remediations?cursor=${cursorOf([at, FINDING])}`)).toBe("invalid_cursor");
    // The cursors the API gives out still work.
    for (const path of ["/v1/findings", "/v1/remediations"]) {
      const first = await app.inject({ method: "GET", url: `${path}?limit=1`, headers: auth("viewer") });
      expect(first.statusCode).toBe(200);
      const own = await app.inject({ method: "GET", url: `${path}?cursor=${cursorOf([at, path === "/v1/findings" ? FINDING : UUID])}`, headers: auth("viewer") });
      expect(own.statusCode, own.body).toBe(200);
    }
  });

  it("answers 400 for malformed path parameters", async () => {
    await expect400("/v1/findings/a%00b");
    await expect400(`/v1/findings/${"x".repeat(129)}`);
    await expect400("/v1/remediations/not-a-uuid");
    await expect400("/v1/remediations/00000000-0000-4000-8000-00000000000%00");
    // Past the router's bound: its own error, in the API's error body, without echoing the URL.
    const long = await app.inject({ method: "GET", url: `/v1/findings/${"x".repeat(300)}`, headers: auth("viewer") });
    expect(long.statusCode).toBe(414);
    expect(long.json()).toEqual({ error: "invalid_request", message: "a path parameter is too long", requestId: expect.any(String) as unknown });
  });
});

describe("bodies", () => {
  it("answers 400 for a control character in a decision's, a release's or a retry's reason, and for a forged plan hash", async () => {
    const post = (url: string, payload: object) => app.inject({ method: "POST", url, headers: auth("approver"), payload });
    for (const reason of ["bad\u0000reason", "bad\u001breason", "line\nbreak"]) {
      for (const action of ["approve", "reject"]) expect((await post(`/v1/remediations/${UUID}/${action}`, { reason, planHash: "a".repeat(64) })).statusCode).toBe(400);
      expect((await post(`/v1/remediations/${UUID}/release`, { reason })).statusCode).toBe(400);
      expect((await post(`/v1/remediations/${UUID}/retry`, { reason })).statusCode).toBe(400);
    }
    expect((await post(`/v1/remediations/${UUID}/approve`, { reason: "fine reason", planHash: "A\u0000".repeat(32) })).statusCode).toBe(400);
  });

  it("records a submitted finding with a NUL (raw or escaped) as rejected (422), never a 500", async () => {
    for (const payload of ['{"detail-type":"GuardDuty Finding","detail":{"id":"a\\u0000b"}}', '{"detail-type":"GuardDuty Finding","x":"a\u0000b"}']) {
      const res = await app.inject({ method: "POST", url: "/v1/findings", headers: { ...auth("admin"), "content-type": "application/json" }, payload });
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json()).toMatchObject({ outcome: "rejected" });
    }
  });
});
