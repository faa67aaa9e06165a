// The approval page (/ui/) in a real browser: Debian's Chromium driven by playwright-core, against
// the API listening on a real socket with real Postgres and Redis, on rows seeded as the worker
// leaves them (ui-e2e.test.ts runs the real ingest and worker against moto instead). An approver pastes a token,
// reviews a frozen plan, approves it (approval row, audit event, one continuation job), and a plan
// changed behind the page's back is refused with the API's 409, shown to the person, recorded nowhere.
import { Queue } from "bullmq";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { createToken } from "@gdr/core/auth/tokens";
import type { FrozenPlan } from "@gdr/core/approvals/plan";
import { planHash } from "@gdr/worker/engine/plan";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { UI_CSP } from "../../services/api/src/ui/plugin.js";
import type { TestDatabase, TestRedis } from "../support/index.js";
import { launchChromium, openPage, useToken } from "./browser.js";
import { createApiWorld, type ApiWorld } from "./world.js";

const ACCOUNT = "123456789012";
const INSTANCE = "i-0123456789abcdef0";
// Markup in API data must show as text, never become elements.
const HOSTILE_TITLE = `<img src=x id=injected> EC2 instance ${INSTANCE} executed a new binary & "quoted"`;

let world: ApiWorld;
let db: TestDatabase;
let redis: TestRedis;
let baseUrl: string;
let browser: Browser;
let approverToken: string;
let page: Page;
let pageErrors: string[];
// Undone last-in-first-out; only what was created, so a failed setup still tears down cleanly.
const cleanups: (() => Promise<unknown>)[] = [];

function frozenPlan(remediationId: string): FrozenPlan {
  const isolation = "sg-0150aa7e0000000001";
  return {
    remediationId,
    action: "continue",
    frozenAt: new Date().toISOString(),
    ifDeclined: "nothing_done",
    steps: [
      {
        name: "isolate",
        destructive: true,
        calls: ["eni-0a1b2c3d4e5f60001", "eni-0a1b2c3d4e5f60002"].map((eni) => ({
          service: "ec2",
          operation: "ModifyNetworkInterfaceAttribute",
          params: { NetworkInterfaceId: eni, Groups: [isolation] },
        })),
      },
      { name: "tag", destructive: false, calls: [{ service: "ec2", operation: "CreateTags", params: { Resources: [INSTANCE], Tags: [{ Key: "gdr:contained", Value: "true" }] } }] },
    ],
  };
}

/** A remediation stopped at the gate, as the worker leaves it: frozen plan, its hash, the waiting step, the audit event. */
async function seedWaiting(n: number): Promise<{ id: string; hash: string }> {
  const findingId = n.toString(16).padStart(32, "0");
  const id = randomUUID();
  const plan = frozenPlan(id);
  const hash = planHash(plan);
  await db.pool.query(
    `INSERT INTO findings (id, arn, account_id, region, partition, type, severity, title, resource_type, resource_key, count, archived, sample, gd_created_at, gd_updated_at, raw)
     VALUES ($1, 'arn:aws:guardduty:us-east-1:${ACCOUNT}:detector/d/finding/' || $1, '${ACCOUNT}', 'us-east-1', 'aws', 'Execution:Runtime/NewBinaryExecuted', 8, $2, 'Instance', $3, 1, false, false, now(), now(), '{}')`,
    [findingId, HOSTILE_TITLE, `${INSTANCE}-${n}`],
  );
  await db.pool.query(
    `INSERT INTO remediations (id, finding_id, playbook, resource_key, account_id, region, mode, status, rule_name, job_id, plan, plan_hash, updated_at)
     VALUES ($1, $2, 'instance', $3, '${ACCOUNT}', 'us-east-1', 'approval', 'awaiting_approval', 'contain-instances', 'j-' || $2, $4, $5, now() - interval '12 minutes')`,
    [id, findingId, `${INSTANCE}-${n}`, JSON.stringify(plan), hash],
  );
  await db.pool.query(
    `INSERT INTO remediation_steps (remediation_id, name, "order", status, attempts, started_at, finished_at)
     VALUES ($1, 'record-pre-state', 1, 'succeeded', 1, now() - interval '13 minutes', now() - interval '12 minutes'),
            ($1, 'isolate', 2, 'awaiting_approval', 0, NULL, NULL)`,
    [id],
  );
  await db.pool.query(
    `INSERT INTO audit_events (at, actor, action, finding_id, remediation_id, detail) VALUES (now() - interval '12 minutes', 'worker', 'remediation.awaiting_approval', $1, $2, $3)`,
    [findingId, id, JSON.stringify({ step: "isolate", planHash: hash })],
  );
  return { id, hash };
}

async function continuationJobs(remediationId: string): Promise<{ data: unknown }[]> {
  const queue = new Queue("instance", { connection: redis.connection, prefix: redis.prefix });
  try {
    return (await queue.getJobs(["waiting", "delayed", "active", "prioritized", "paused"])).filter((j) => (j.data as { remediationId?: string }).remediationId === remediationId);
  } finally {
    await queue.close();
  }
}

async function openWithToken(): Promise<void> {
  await page.goto(`${baseUrl}/ui/`);
  await useToken(page, approverToken);
  await expect.poll(() => page.locator("#status").textContent()).toMatch(/waiting for approval/);
}

async function review(id: string): Promise<void> {
  await page.locator(`tr[data-remediation-id="${id}"]`).getByRole("button", { name: /Review the plan/ }).click();
  await page.locator("#plan .call").first().waitFor();
}

beforeAll(async () => {
  world = await createApiWorld({ name: "ui-test" });
  cleanups.push(() => world.close());
  ({ db, redis } = world);
  await world.app.listen({ host: "127.0.0.1", port: 0 });
  baseUrl = `http://127.0.0.1:${(world.app.server.address() as AddressInfo).port}`;
  approverToken = (await createToken(db.prisma, "ui-approver", "approver")).token;
  browser = await launchChromium();
  cleanups.push(() => browser.close());
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

beforeEach(async () => {
  ({ page, errors: pageErrors } = await openPage(browser));
});

afterEach(async () => {
  await page.close();
});

describe("approval page", () => {
  it("loads without a token, under a strict Content-Security-Policy", async () => {
    for (const path of ["/ui/", "/ui/app.js", "/ui/style.css", "/ui/favicon.svg"]) {
      const res = await fetch(`${baseUrl}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-security-policy"), path).toBe(UI_CSP);
    }
    expect(UI_CSP).toContain("default-src 'self'");
    const html = await (await fetch(`${baseUrl}/ui/`)).text();
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]/); // no inline script
    expect(html).not.toMatch(/https?:\/\//); // no CDN
    // Data needs the token.
    expect((await fetch(`${baseUrl}/v1/remediations?status=awaiting_approval`)).status).toBe(401);
  });

  it("shows the pending remediation and its frozen plan; approving records the decision and enqueues one continuation", async () => {
    const { id, hash } = await seedWaiting(1);
    await openWithToken();

    const row = page.locator(`tr[data-remediation-id="${id}"]`);
    await expect.poll(() => row.textContent()).toContain("Execution:Runtime/NewBinaryExecuted");
    const rowText = (await row.textContent()) ?? "";
    for (const shown of [ACCOUNT, "us-east-1", `${INSTANCE}-1`, "instance", "approval", "High (8)", "12 min", HOSTILE_TITLE]) expect(rowText).toContain(shown);
    expect(await page.locator("#injected").count()).toBe(0);

    await review(id);
    expect(await page.locator("#plan-hash").textContent()).toBe(hash);
    const calls = await page.locator("#plan .call").allTextContents();
    expect(calls.filter((c) => c.includes("ModifyNetworkInterfaceAttribute"))).toHaveLength(2);
    expect(calls.join("\n")).toContain("eni-0a1b2c3d4e5f60001");
    expect(calls.join("\n")).toContain("sg-0150aa7e0000000001");
    expect(await page.locator("#steps tbody").textContent()).toContain("awaiting approval");
    expect(await page.locator("#audit").textContent()).toContain("remediation.awaiting_approval");

    const screenshot = join(tmpdir(), `gdr-ui-review-${process.pid}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`ui.test: screenshot of the review at ${screenshot}`);

    await page.getByLabel(/Reason/).fill("Confirmed crypto-miner; isolate now");
    await page.getByRole("button", { name: "Approve plan" }).click();
    await expect.poll(() => page.locator("#decision-result").textContent()).toMatch(/Approved: .*continuing/);
    await expect.poll(() => page.locator("#audit").textContent()).toContain("approval.approved");
    expect(await page.getByRole("button", { name: "Approve plan" }).isDisabled()).toBe(true);

    const approvals = await db.pool.query<{ actor: string; decision: string; reason: string; plan_hash: string; step: string }>(
      "SELECT actor, decision::text AS decision, reason, plan_hash, step FROM approvals WHERE remediation_id = $1",
      [id],
    );
    expect(approvals.rows).toEqual([{ actor: "token:ui-approver", decision: "approved", reason: "Confirmed crypto-miner; isolate now", plan_hash: hash, step: "isolate" }]);
    const audit = await db.pool.query<{ actor: string; detail: unknown }>("SELECT actor, detail FROM audit_events WHERE remediation_id = $1::uuid AND action = 'approval.approved'", [id]);
    expect(audit.rows).toEqual([{ actor: "token:ui-approver", detail: { step: "isolate", reason: "Confirmed crypto-miner; isolate now", planHash: hash } }]);
    const jobs = await continuationJobs(id);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.data).toMatchObject({ action: "continue", remediationId: id });
    expect(pageErrors).toEqual([]);
  });

  it("shows a step that could not do its work as not available, with the reason, and the final check as verified", async () => {
    const { id } = await seedWaiting(3);
    const reason = "StartMalwareScan is not available in this region: BadRequestException: not supported";
    await db.pool.query(
      `INSERT INTO remediation_steps (remediation_id, name, "order", status, attempts, started_at, finished_at, output)
       VALUES ($1, 'malware-scan', 8, 'unavailable', 1, now(), now(), $2), ($1, 'verify', 9, 'verified', 1, now(), now(), '{}')`,
      [id, JSON.stringify({ started: false, reason })],
    );
    await db.pool.query(
      `INSERT INTO audit_events (actor, action, remediation_id, detail) VALUES ('worker', 'step.unavailable', $1, $2), ('worker', 'step.verified', $1, '{"step":"verify","note":"verified"}')`,
      [id, JSON.stringify({ step: "malware-scan", note: reason })],
    );
    await openWithToken();
    await review(id);
    const rows = page.locator("#steps tbody tr");
    await expect.poll(() => rows.count()).toBe(4);
    const scan = rows.filter({ hasText: "malware-scan" }).locator(".step-status");
    expect(await scan.textContent()).toBe(`not available: ${reason}`);
    expect(await scan.getAttribute("class")).toBe("step-status unavailable");
    const verify = rows.filter({ hasText: "verify" }).locator(".step-status");
    expect(await verify.textContent()).toBe("verified");
    expect(await verify.getAttribute("class")).toBe("step-status verified");
    expect(pageErrors).toEqual([]);
  });

  it("refuses a plan changed after the page showed it: the 409 is shown and nothing is recorded", async () => {
    const { id } = await seedWaiting(2);
    await openWithToken();
    await review(id);
    await db.pool.query("UPDATE remediations SET plan_hash = $2 WHERE id = $1", [id, "f".repeat(64)]);

    await page.getByLabel(/Reason/).fill("looks right to me");
    await page.getByRole("button", { name: "Approve plan" }).click();
    await expect.poll(() => page.locator("#decision-result").textContent()).toMatch(/plan changed since this page showed it \(409 plan_changed\)\. Nothing was recorded/);
    expect(await page.getByRole("button", { name: "Load the current plan" }).isVisible()).toBe(true);

    expect((await db.pool.query("SELECT count(*)::int AS n FROM approvals WHERE remediation_id = $1", [id])).rows[0]).toEqual({ n: 0 });
    expect((await db.pool.query("SELECT count(*)::int AS n FROM audit_events WHERE remediation_id = $1::uuid AND action LIKE 'approval.%'", [id])).rows[0]).toEqual({ n: 0 });
    expect(await continuationJobs(id)).toHaveLength(0);
    expect(pageErrors.filter((e) => !e.includes("409"))).toEqual([]);
  });
});
