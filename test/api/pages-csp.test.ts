// The pages served by libraries, /docs (Swagger UI) and /admin/queues (bull-board), in a real
// browser (Debian's Chromium, playwright-core) against the API on a real socket: each answer
// carries the Content-Security-Policy, and both pages still render under it with no script
// refused. The one thing refused on purpose is bull-board's Google Fonts stylesheet (the admin page
// calls out to no third party; it falls back to local fonts).
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PAGE_CSP } from "../../services/api/src/plugins/csp.js";
import { launchChromium } from "./browser.js";
import { createApiWorld, type ApiWorld } from "./world.js";

let world: ApiWorld;
let browser: Browser;
let baseUrl: string;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  world = await createApiWorld({ name: "pages-csp-test" });
  cleanups.push(() => world.close());
  await world.app.listen({ host: "127.0.0.1", port: 0 });
  baseUrl = `http://127.0.0.1:${(world.app.server.address() as AddressInfo).port}`;
  browser = await launchChromium();
  cleanups.push(() => browser.close());
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Opens `path` as a person with `token` typed into the Basic prompt; returns the console errors and CSP headers seen. */
async function open(path: string, token: string, ready: string) {
  const context = await browser.newContext({ httpCredentials: { username: "me", password: token } });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    const csp = new Map<string, string | undefined>();
    page.on("pageerror", (err) => errors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") errors.push(msg.text());
    });
    page.on("response", (res) => {
      if (res.url().startsWith(baseUrl)) csp.set(res.url(), res.headers()["content-security-policy"]);
    });
    await page.goto(`${baseUrl}${path}`);
    await page.locator(ready).first().waitFor();
    return { errors, csp };
  } finally {
    await context.close();
  }
}

describe("pages under their Content-Security-Policy", () => {
  it("renders the API docs with every operation, every answer under PAGE_CSP, nothing refused", async () => {
    const { errors, csp } = await open("/docs", world.tokens.viewer, ".swagger-ui .opblock");
    expect(errors).toEqual([]);
    expect(csp.size).toBeGreaterThan(3);
    for (const [url, header] of csp) expect(header, url).toBe(PAGE_CSP);
  });

  it("renders the queue dashboard with its queues, every answer under PAGE_CSP, only the third-party font refused", async () => {
    const { errors, csp } = await open("/admin/queues", world.tokens.admin, "text=instance");
    expect(errors.filter((e) => !e.includes("fonts.googleapis.com"))).toEqual([]);
    expect(csp.size).toBeGreaterThan(3);
    for (const [url, header] of csp) expect(header, url).toBe(PAGE_CSP);
  });
});
