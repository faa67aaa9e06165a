// The control plane end to end, on the real ingest (SQS → Postgres → BullMQ) and the real worker
// against moto, with the API on the same database and queues:
// - the approval page: the worker stops at the approval gate (policy: approval mode); an on-call
//   engineer follows the notification's link to the page in Debian's Chromium, pastes a token,
//   reviews the frozen plan and approves it; the page follows the remediation until it is
//   contained, and moto holds the instance isolated;
// - the kill switch: POST /v1/pause holds the worker before its first AWS call; resuming lets it go.
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { createToken } from "@gdr/core/auth/tokens";
import { remediationLink } from "@gdr/core/notify/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containmentProblems, viewInstance, waitUntil } from "../support/index.js";
import {
  CONTAINMENT_STEPS,
  approvalsOf,
  createEngineWorld,
  findingFor,
  findingIdOf,
  remediation,
  remediationForFinding,
  seed,
  startLane,
  stepsOf,
  waitForStatus,
  type EngineWorld,
  type Lane,
  type LogLine,
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
      // Each step as it happened: moto has no StartMalwareScan, so the scan says it is not available
      // and why (not "succeeded"); the final check says it verified the containment.
      const outcome: Partial<Record<(typeof CONTAINMENT_STEPS)[number], string>> = {
        "malware-scan": "not available: StartMalwareScan is not available in this region: \\S",
        verify: "verified",
      };
      for (const [i, name] of CONTAINMENT_STEPS.entries()) expect(timeline[i], name).toMatch(new RegExp(`${name}(${outcome[name] ?? "succeeded|skipped"})`));
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
      CONTAINMENT_STEPS.map((name) => [name, name === "malware-scan" ? "unavailable" : name === "verify" ? "verified" : (expect.stringMatching(/^(succeeded|skipped)$/) as unknown)]),
    );
    expect(await approvalsOf(engine.db, queued.id)).toEqual([expect.objectContaining({ decision: "approved", actor: "token:oncall-laptop", plan_hash: waiting.plan_hash })]);
    const after = await viewInstance(engine.aws, seeded);
    expect(containmentProblems(after, seeded, { findingId, remediationId: queued.id })).toEqual([]);
  });
});

describe("the kill switch through the API", () => {
  it("POST /v1/pause holds the worker before it touches AWS; resuming lets the remediation run", async () => {
    const worker = lane.worker;
    if (!worker) throw new Error("lane without a worker");
    const admin = { authorization: `Bearer ${api.tokens.admin}` };
    const setPause = (paused: boolean, reason: string) => api.app.inject({ method: "POST", url: "/v1/pause", headers: admin, payload: { paused, reason } });
    const paused = await setPause(true, "bad deploy of the isolation policy");
    expect(paused.statusCode, paused.body).toBe(200);
    let remediationId: string;
    try {
      const seeded = await seed(engine, { targetGroup: false });
      const before = await viewInstance(engine.aws, seeded);
      const detail = findingFor(seeded);
      await lane.send(detail);
      const queued = await remediationForFinding(engine.db, findingIdOf(detail));
      remediationId = queued.id;

      // The worker picked the job up and put it back, twice, without a step or an AWS call.
      const heldBack = (l: LogLine) => l.msg === "remediation postponed" && l["why"] === "paused" && l["jobId"] === queued.job_id;
      await waitUntil(() => worker.logs.count(heldBack) >= 2, { attempts: 150, what: "the job held back twice by the pause" });
      expect(await stepsOf(engine.db, queued.id)).toEqual([]);
      expect((await remediation(engine.db, queued.id)).status).toBe("queued");
      expect(await viewInstance(engine.aws, seeded)).toEqual(before);
    } finally {
      const resumed = await setPause(false, "fixed");
      expect(resumed.statusCode, resumed.body).toBe(200);
    }
    // Resumed: it runs up to the gate this lane's policy sets (approval mode).
    expect((await waitForStatus(engine.db, remediationId, ["awaiting_approval", "failed"])).status).toBe("awaiting_approval");
  });
});
