// The approval page end to end: a GuardDuty finding about an instance moto holds goes through the
// real ingest (SQS → Postgres → BullMQ) to the real worker, which stops at the approval gate
// (policy: approval mode). An on-call engineer follows the notification's link to the page in
// Debian's Chromium, pastes a token, reviews the frozen plan and approves it; the page follows the
// remediation until it is contained, and moto holds the instance isolated.
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { createToken } from "@gdr/core/auth/tokens";
import { remediationLink } from "@gdr/core/notify/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containmentProblems, viewInstance } from "../support/index.js";
import {
  CONTAINMENT_STEPS,
  approvalsOf,
  createEngineWorld,
  findingFor,
  findingIdOf,
  remediationForFinding,
  seed,
  startLane,
  stepsOf,
  waitForStatus,
  type EngineWorld,
  type Lane,
} from "../worker/engine-harness.js";
import { launchChromium, openPage, useToken } from "./browser.js";
import { createApiWorld, type ApiWorld } from "./world.js";

const APPROVE_EVERYTHING = ["version: 1", 'accounts: { allow: ["*"] }', "rules:", "  - { name: all-approval, match: { severity: { min: 0 } }, mode: approval }", ""].join("\n");

let engine: EngineWorld;
let lane: Lane;
let api: ApiWorld;
let baseUrl: string;
let browser: Browser;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  engine = await createEngineWorld();
  cleanups.push(() => engine.close());
  lane = await startLane(engine, { policy: APPROVE_EVERYTHING });
  // The API on the same database and the lane's queue prefix, as one deployment runs them.
  api = await createApiWorld({ name: "ui-e2e-test", shared: { db: engine.db, redis: engine.redis, prefix: lane.prefix } });
  cleanups.push(() => api.close());
  await api.app.listen({ host: "127.0.0.1", port: 0 });
  baseUrl = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  browser = await launchChromium();
  cleanups.push(() => browser.close());
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe("approval page, end to end", () => {
  it("approving from the page lets the worker contain the instance, and the page follows it to succeeded", async () => {
    const seeded = await seed(engine, { targetGroup: false });
    const detail = findingFor(seeded, { severity: 8 });
    const findingId = findingIdOf(detail);
    await lane.send(detail);
    const queued = await remediationForFinding(engine.db, findingId);
    const waiting = await waitForStatus(engine.db, queued.id, ["awaiting_approval", "failed", "succeeded"]);
    expect(waiting.status).toBe("awaiting_approval");
    const before = await viewInstance(engine.aws, seeded);
    expect(containmentProblems(before, seeded, { findingId, remediationId: queued.id })).not.toEqual([]);

    const { token } = await createToken(engine.db.prisma, "oncall-laptop", "approver");
    const { page, errors } = await openPage(browser);
    try {
      // The link a notification carries opens this remediation's review once a token is given.
      await page.goto(remediationLink(baseUrl, queued.id));
      await useToken(page, token);
      await page.locator("#plan .call").first().waitFor();
      expect(await page.locator("#plan-hash").textContent()).toBe(waiting.plan_hash);
      const calls = (await page.locator("#plan .call").allTextContents()).join("\n");
      for (const eni of [seeded.primaryEniId, seeded.secondaryEniId]) expect(calls).toContain(eni);
      expect(calls).toContain("ModifyNetworkInterfaceAttribute");

      await page.getByLabel(/Reason/).fill("Confirmed: unknown binary on a web host");
      await page.getByRole("button", { name: "Approve plan" }).click();
      await expect.poll(() => page.locator("#decision-result").textContent()).toMatch(/Approved: .*continuing/);
      // The page follows the remediation by itself until it stops moving.
      await expect.poll(() => page.locator("#follow").textContent(), { timeout: 45_000 }).toBe("This remediation is now succeeded.");
      const summary = (await page.locator("#review-summary").textContent()) ?? "";
      expect(summary).toContain("succeeded");
      expect(summary).toContain("approved by token:oncall-laptop");
      const timeline = await page.locator("#steps tbody tr").allTextContents();
      expect(timeline).toHaveLength(CONTAINMENT_STEPS.length);
      for (const [i, name] of CONTAINMENT_STEPS.entries()) expect(timeline[i], name).toMatch(new RegExp(`${name}(succeeded|skipped)`));
      expect(errors).toEqual([]);
      const screenshot = join(tmpdir(), `gdr-ui-contained-${process.pid}.png`);
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`ui-e2e.test: screenshot of the contained remediation at ${screenshot}`);
    } finally {
      await page.close();
    }

    // What the page showed is what Postgres and moto hold.
    expect((await waitForStatus(engine.db, queued.id, ["succeeded", "failed"])).status).toBe("succeeded");
    expect((await stepsOf(engine.db, queued.id)).map((s) => [s.name, s.status])).toEqual(
      CONTAINMENT_STEPS.map((name) => [name, expect.stringMatching(/^(succeeded|skipped)$/) as unknown]),
    );
    expect(await approvalsOf(engine.db, queued.id)).toEqual([expect.objectContaining({ decision: "approved", actor: "token:oncall-laptop", plan_hash: waiting.plan_hash })]);
    const after = await viewInstance(engine.aws, seeded);
    expect(containmentProblems(after, seeded, { findingId, remediationId: queued.id })).toEqual([]);
  });
});
