// Request limits on the API (app.inject, real Postgres and Redis). Two buckets: requests without a
// valid token count per client address (made-up tokens buy no allowance of their own), requests
// with a verified token count per token; /healthz is in neither. So an anonymous flood never locks
// out an approver or the probes. Behind a trusted proxy the address is the client's from
// X-Forwarded-For. (The body size limit: replay.test.ts.)
import { loadApiConfig } from "@gdr/api/config";
import { createToken } from "@gdr/core/auth/tokens";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findingId, HASH, seedWaiting } from "../approvals/seed.js";
import { createApiWorld, type ApiWorld } from "./world.js";

const LIMIT = 5;
/** The shipped per-address default (API_RATE_LIMIT_PER_MINUTE), for the flood. */
const DEFAULT_LIMIT = loadApiConfig({ DATABASE_URL: "postgresql://u@h/db", REDIS_URL: "redis://h:6379", AWS_REGION: "us-east-1" }).API_RATE_LIMIT_PER_MINUTE;
let direct: ApiWorld;
let proxied: ApiWorld;
let flooded: ApiWorld;

beforeAll(async () => {
  direct = await createApiWorld({ name: "api-limits-test", rateLimitPerMinute: LIMIT, tokenRateLimitPerMinute: LIMIT });
  proxied = await createApiWorld({ name: "api-limits-proxied-test", rateLimitPerMinute: LIMIT, trustProxy: "127.0.0.1" });
  flooded = await createApiWorld({ name: "api-limits-flood-test", rateLimitPerMinute: DEFAULT_LIMIT, checks: { self: () => Promise.resolve() } });
});

afterAll(async () => {
  await Promise.all([direct.close(), proxied.close(), flooded.close()]);
});

/** A well-formed token nobody issued: each one different. */
const madeUpToken = (n: number) => `gdr_${n.toString().padStart(43, "x")}`;

describe("rate limit", () => {
  it("600+ anonymous requests from one address lock out neither an authenticated approver nor /healthz nor /readyz, and the 429 says rate_limited", async () => {
    const id = await seedWaiting(flooded.db, { findingId: findingId(1) });
    const statuses = new Map<number, number>();
    for (let n = 0; n < DEFAULT_LIMIT + 50; n++) {
      // No token, and made-up tokens: both anonymous, both counted against the address.
      const headers = n % 2 === 0 ? {} : { authorization: `Bearer ${madeUpToken(n)}` };
      const res = await flooded.app.inject({ method: "GET", url: "/v1/remediations", headers });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 401: DEFAULT_LIMIT, 429: 50 });
    const limited = await flooded.app.inject({ method: "POST", url: `/v1/remediations/${id}/approve`, payload: { reason: "flooding", planHash: HASH } });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ error: "rate_limited", message: expect.stringMatching(/rate limit exceeded/) as unknown, requestId: expect.any(String) as unknown });
    expect(limited.headers["retry-after"]).toBeDefined();

    // The same address, with tokens: the approver decides, the prober reads readiness.
    const approved = await flooded.app.inject({
      method: "POST",
      url: `/v1/remediations/${id}/approve`,
      headers: { authorization: `Bearer ${flooded.tokens.approver}` },
      payload: { reason: "contain it", planHash: HASH },
    });
    expect(approved.statusCode, approved.body).toBe(200);
    expect((await flooded.db.pool.query("SELECT actor, decision FROM approvals WHERE remediation_id = $1", [id])).rows).toEqual([{ actor: "token:t-approver", decision: "approved" }]);
    const ready = await flooded.app.inject({ method: "GET", url: "/readyz", headers: { authorization: `Bearer ${flooded.tokens.viewer}` } });
    expect(ready.statusCode).toBe(200);
    // /healthz: outside every bucket, however often it is asked.
    for (let n = 0; n < DEFAULT_LIMIT + 10; n++) expect((await flooded.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  });

  it("counts made-up tokens against the client address, so rotating them gets 429 like anything else", async () => {
    const statuses: number[] = [];
    for (let n = 0; n < LIMIT + 3; n++) {
      const res = await direct.app.inject({ method: "GET", url: "/v1/policy", headers: { authorization: `Bearer ${madeUpToken(n)}` } });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([...Array<number>(LIMIT).fill(401), 429, 429, 429]);
  });

  it("gives each verified token a bucket of its own: past it, that token gets 429 rate_limited; another token is unaffected", async () => {
    const { token: busy } = await createToken(direct.db.prisma, "busy-viewer", "viewer");
    const as = (token: string) => direct.app.inject({ method: "GET", url: "/v1/policy", headers: { authorization: `Bearer ${token}` } });
    const statuses: number[] = [];
    for (let n = 0; n < LIMIT + 2; n++) statuses.push((await as(busy)).statusCode);
    expect(statuses).toEqual([...Array<number>(LIMIT).fill(200), 429, 429]);
    expect((await as(busy)).json()).toMatchObject({ error: "rate_limited" });
    expect((await as(direct.tokens.viewer)).statusCode).toBe(200);
  });

  it("behind a trusted proxy, counts anonymous requests per client address from X-Forwarded-For", async () => {
    const from = (client: string) => proxied.app.inject({ method: "GET", url: "/v1/policy", remoteAddress: "127.0.0.1", headers: { "x-forwarded-for": client } });
    for (let n = 0; n < LIMIT; n++) expect((await from("198.51.100.7")).statusCode).toBe(401);
    expect((await from("198.51.100.7")).statusCode).toBe(429);
    // Another client behind the same proxy has an allowance of its own.
    expect((await from("198.51.100.8")).statusCode).toBe(401);
  });
});

describe("API configuration", () => {
  const base = { DATABASE_URL: "postgresql://u@h/db", REDIS_URL: "redis://h:6379", AWS_REGION: "us-east-1" };
  it("reads API_TRUST_PROXY as off by default, true, or proxy addresses, and refuses anything else", () => {
    expect(loadApiConfig(base).API_TRUST_PROXY).toBe(false);
    expect(loadApiConfig({ ...base, API_TRUST_PROXY: "true" }).API_TRUST_PROXY).toBe(true);
    expect(loadApiConfig({ ...base, API_TRUST_PROXY: "10.0.0.0/8, 192.168.1.10" }).API_TRUST_PROXY).toBe("10.0.0.0/8, 192.168.1.10");
    expect(() => loadApiConfig({ ...base, API_TRUST_PROXY: "everyone" })).toThrow(/API_TRUST_PROXY: must be true, false, or comma-separated/);
    expect(loadApiConfig(base).API_RATE_LIMIT_PER_MINUTE).toBe(600);
    expect(loadApiConfig(base).API_TOKEN_RATE_LIMIT_PER_MINUTE).toBe(1_200);
  });
});
