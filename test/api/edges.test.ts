// API edges (app.inject, real Postgres and Redis): authentication runs before body parsing and
// schema validation (anonymous callers learn nothing of a schema), X-Request-Id is honoured only
// when it is a short plain token, a token put in the URL never reaches the logs, and the pages
// served by libraries (/docs, /admin/queues) carry a Content-Security-Policy.
import { createLogger } from "@gdr/core/log";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PAGE_CSP } from "../../services/api/src/plugins/csp.js";
import { createApiWorld, type ApiWorld } from "./world.js";

let world: ApiWorld;
/** Every line the app's logger wrote (level info and up), as written. */
const logLines: string[] = [];
const UUID = "00000000-0000-4000-8000-000000000000";
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  const logger = createLogger({ level: "info", name: "api-edges-test", destination: { write: (line: string) => void logLines.push(line) } });
  world = await createApiWorld({ name: "api-edges-test", logger });
});

afterAll(async () => {
  await world.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("authentication before validation", () => {
  const invalid: { method: "GET" | "POST"; url: string; payload?: string; contentType?: string }[] = [
    { method: "POST", url: `/v1/remediations/${UUID}/approve`, payload: "{}" },
    { method: "POST", url: `/v1/remediations/${UUID}/reject`, payload: '{"reason":1}' },
    { method: "POST", url: `/v1/remediations/${UUID}/release`, payload: "{not json" },
    { method: "POST", url: `/v1/remediations/${UUID}/retry`, payload: "[]" },
    { method: "POST", url: "/v1/remediations/not-a-uuid/approve", payload: "{}" },
    { method: "POST", url: "/v1/pause", payload: '{"paused":"maybe"}' },
    { method: "POST", url: "/v1/findings", payload: "\u0000", contentType: "application/x-unknown" },
    { method: "GET", url: "/v1/findings?limit=abc&since=300000" },
    { method: "GET", url: "/v1/remediations?cursor=%00" },
    { method: "GET", url: "/v1/remediations/not-a-uuid" },
  ];

  it("answers an anonymous request with an invalid body, query or parameter 401, never the 400 that would describe the schema", async () => {
    for (const r of invalid) {
      const headers = { "content-type": r.contentType ?? "application/json" };
      const res = await world.app.inject({ method: r.method, url: r.url, headers, ...(r.payload === undefined ? {} : { payload: r.payload }) });
      expect(res.statusCode, `${r.method} ${r.url}: ${res.body}`).toBe(401);
      expect(res.json()).toMatchObject({ error: "unauthorized" });
      // A made-up token is anonymous too.
      const madeUp = await world.app.inject({ method: r.method, url: r.url, headers: { ...headers, ...bearer(`gdr_${"x".repeat(43)}`) }, ...(r.payload === undefined ? {} : { payload: r.payload }) });
      expect(madeUp.statusCode, `${r.method} ${r.url} (made-up token)`).toBe(401);
    }
  });

  it("still validates for a caller with a token (the 401s above are the missing token, not the routes)", async () => {
    const res = await world.app.inject({ method: "POST", url: `/v1/remediations/${UUID}/approve`, headers: bearer(world.tokens.approver), payload: {} });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: "invalid_request" });
  });
});

describe("X-Request-Id", () => {
  const idOf = async (header: string | undefined) => {
    const res = await world.app.inject({ method: "GET", url: "/v1/policy", headers: header === undefined ? {} : { "x-request-id": header } });
    expect(res.statusCode).toBe(401);
    return res.json<{ requestId: string }>().requestId;
  };

  it("keeps a caller's id of at most 128 characters of [A-Za-z0-9._-] for tracing", async () => {
    expect(await idOf("trace-1.2_3")).toBe("trace-1.2_3");
    expect(await idOf("a".repeat(128))).toBe("a".repeat(128));
  });

  it("replaces a bad id (too long, spaces, quotes, markup, control characters, empty) with a fresh uuid", async () => {
    for (const bad of ["a".repeat(129), "two words", '"quoted"', "<script>alert(1)</script>", "line\u0001break", "x;y", ""]) {
      const id = await idOf(bad);
      expect(id, JSON.stringify(bad)).toMatch(UUID_PATTERN);
    }
    expect(await idOf(undefined)).toMatch(UUID_PATTERN);
    const logged = logLines.join("");
    expect(logged).not.toContain("<script>");
    expect(logged).not.toContain("two words");
  });
});

describe("logs", () => {
  it("never writes a token found in the query string or the path, nor the Authorization header", async () => {
    const secret = world.tokens.admin;
    logLines.length = 0;
    await world.app.inject({ method: "GET", url: `/v1/findings?token=${secret}&limit=5`, headers: bearer(world.tokens.viewer) });
    await world.app.inject({ method: "GET", url: `/v1/findings?access_token=${secret}` });
    await world.app.inject({ method: "GET", url: `/v1/policy?api_key=not-a-gdr-token-but-a-key&x=${secret}` });
    await world.app.inject({ method: "GET", url: `/v1/${secret}/anything` });
    await world.app.inject({ method: "GET", url: `/docs/json?token=${secret}` });
    const logged = logLines.join("");
    // The requests were logged (so the absence below means something)...
    expect(logged).toContain("incoming request");
    expect(logged).toContain("/v1/findings?token=[redacted]&limit=5");
    expect(logged).toContain("access_token=[redacted]");
    // ...without any of the secrets.
    for (const s of [secret, secret.slice(4), world.tokens.viewer, "not-a-gdr-token-but-a-key"]) expect(logged).not.toContain(s);
  });
});

describe("Content-Security-Policy", () => {
  const basic = (token: string) => ({ authorization: `Basic ${Buffer.from(`me:${token}`).toString("base64")}` });

  it("is sent on the docs page, its assets and document, and the queue dashboard, and on their 401s", async () => {
    const pages: [string, Record<string, string>][] = [
      ["/docs", basic(world.tokens.viewer)],
      ["/docs/", basic(world.tokens.viewer)],
      ["/docs/static/index.html", basic(world.tokens.viewer)],
      ["/docs/static/swagger-initializer.js", basic(world.tokens.viewer)],
      ["/docs/json", bearer(world.tokens.viewer)],
      ["/admin/queues", basic(world.tokens.admin)],
      ["/admin/queues/api/queues", bearer(world.tokens.admin)],
      ["/docs", {}],
      ["/admin/queues", {}],
    ];
    for (const [url, headers] of pages) {
      const res = await world.app.inject({ method: "GET", url, headers });
      expect(res.statusCode, `${url}: ${res.statusCode}`).toBeLessThan(500);
      expect(res.headers["content-security-policy"], url).toBe(PAGE_CSP);
    }
    expect(PAGE_CSP).toContain("script-src 'self'");
    expect(PAGE_CSP).not.toMatch(/script-src[^;]*unsafe/);
    expect(PAGE_CSP).toContain("frame-ancestors 'none'");
  });
});
