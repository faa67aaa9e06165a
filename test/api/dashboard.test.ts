// The queue dashboard (bull-board at /admin/queues): the entry page, its static assets and its
// JSON API each need an admin token, as Basic auth password (what a browser sends) or bearer.
import type { Role } from "@gdr/core/auth/tokens";
import { PLAYBOOKS } from "@gdr/core/queues/playbooks";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiWorld, type ApiWorld } from "./world.js";

let app: FastifyInstance;
let tokens: Record<Role, string>;
let world: ApiWorld;
const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`someone:${password}`).toString("base64")}` });
const bearer = (role: Role) => ({ authorization: `Bearer ${tokens[role]}` });

beforeAll(async () => {
  world = await createApiWorld({ name: "api-dashboard-test" });
  ({ app, tokens } = world);
});

afterAll(async () => {
  await world.close();
});

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: "GET", url, headers });

/** The three kinds of request the UI makes: its page, an asset it loads, and its API. */
async function dashboardUrls(): Promise<string[]> {
  const page = await get("/admin/queues", basic(tokens.admin));
  // Asset paths are relative to the page's <base href="/admin/queues/">.
  const asset = /src="(?:\/admin\/queues\/)?(static\/[^"]+\.js)"/.exec(page.body)?.[1];
  expect(asset, page.body).toBeDefined();
  return ["/admin/queues", `/admin/queues/${asset ?? ""}`, "/admin/queues/api/queues"];
}

describe("queue dashboard", () => {
  it("answers 401 with a Basic challenge without a token, 403 below admin, 200 for admin — page, assets and API alike", async () => {
    for (const url of await dashboardUrls()) {
      const none = await get(url);
      expect(none.statusCode, url).toBe(401);
      expect(none.headers["www-authenticate"]).toMatch(/^Basic realm=/);
      expect(none.json()).toMatchObject({ error: "unauthorized" });
      expect((await get(url, basic("gdr_not-a-real-token-aaaaaaaaaaaaaaaaaaaaaaaa"))).statusCode, url).toBe(401);
      expect((await get(url, { authorization: "Basic !!!" })).statusCode, url).toBe(401);
      for (const role of ["viewer", "approver"] as const) {
        expect((await get(url, basic(tokens[role]))).statusCode, `${url} ${role}`).toBe(403);
        expect((await get(url, bearer(role))).statusCode, `${url} ${role}`).toBe(403);
      }
      const ok = await get(url, basic(tokens.admin));
      expect(ok.statusCode, url).toBe(200);
      expect(ok.headers["cache-control"]).toBe("no-store");
      expect((await get(url, bearer("admin"))).statusCode, url).toBe(200);
    }
  });

  it("shows every playbook queue, read-only", async () => {
    const res = await get("/admin/queues/api/queues", basic(tokens.admin));
    const body = res.json<{ queues: { name: string; readOnlyMode: boolean }[] }>();
    expect(body.queues.map((q) => q.name).sort()).toEqual([...PLAYBOOKS].sort());
    expect(body.queues.every((q) => q.readOnlyMode)).toBe(true);
  });

  it("refuses cross-site requests even with a valid admin credential (the browser attaches Basic auth itself)", async () => {
    const res = await app.inject({ method: "PUT", url: "/admin/queues/api/queues/instance/pause", headers: { ...basic(tokens.admin), "sec-fetch-site": "cross-site" } });
    expect(res.statusCode).toBe(403);
  });

  it("leaves the rest of the API's auth as it was", async () => {
    expect((await get("/v1/pause", basic(tokens.admin))).statusCode).toBe(401);
  });
});
