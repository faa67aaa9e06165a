// Request limits on the API (app.inject, real Postgres and Redis): the rate limit counts per client
// address whatever token is sent, so made-up tokens buy no extra allowance; behind a trusted proxy
// the address is the client's from X-Forwarded-For. (The body size limit: replay.test.ts.)
import { loadApiConfig } from "@gdr/api/config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiWorld, type ApiWorld } from "./world.js";

const LIMIT = 5;
let direct: ApiWorld;
let proxied: ApiWorld;

beforeAll(async () => {
  direct = await createApiWorld({ name: "api-limits-test", rateLimitPerMinute: LIMIT });
  proxied = await createApiWorld({ name: "api-limits-proxied-test", rateLimitPerMinute: LIMIT, trustProxy: "127.0.0.1" });
});

afterAll(async () => {
  await Promise.all([direct.close(), proxied.close()]);
});

/** A well-formed token nobody issued: each one different. */
const madeUpToken = (n: number) => `gdr_${n.toString().padStart(43, "x")}`;

describe("rate limit", () => {
  it("counts per client address, so rotating made-up tokens gets 429 like anything else", async () => {
    const statuses: number[] = [];
    for (let n = 0; n < LIMIT + 3; n++) {
      const res = await direct.app.inject({ method: "GET", url: "/v1/policy", headers: { authorization: `Bearer ${madeUpToken(n)}` } });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([...Array<number>(LIMIT).fill(401), 429, 429, 429]);
    const limited = await direct.app.inject({ method: "GET", url: "/v1/policy", headers: { authorization: `Bearer ${direct.tokens.admin}` } });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ error: expect.any(String) as unknown, message: expect.stringMatching(/rate limit/i) as unknown, requestId: expect.any(String) as unknown });
    expect(limited.headers["retry-after"]).toBeDefined();
  });

  it("behind a trusted proxy, counts the client address from X-Forwarded-For", async () => {
    const from = (client: string) =>
      proxied.app.inject({ method: "GET", url: "/v1/policy", remoteAddress: "127.0.0.1", headers: { authorization: `Bearer ${proxied.tokens.viewer}`, "x-forwarded-for": client } });
    for (let n = 0; n < LIMIT; n++) expect((await from("198.51.100.7")).statusCode).toBe(200);
    expect((await from("198.51.100.7")).statusCode).toBe(429);
    // Another client behind the same proxy has an allowance of its own.
    expect((await from("198.51.100.8")).statusCode).toBe(200);
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
  });
});
