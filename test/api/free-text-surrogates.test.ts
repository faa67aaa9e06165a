// A lone UTF-16 surrogate (a `\ud800` escape in a JSON body) is valid JSON but not text: jsonb
// refuses it. Every free-text reason must be refused as the caller's mistake (400) before anything
// is written, never reach Postgres as a 500 (app.inject, real Postgres and Redis).
import type { Role } from "@gdr/core/auth/tokens";
import { createPauseSwitch } from "@gdr/core/control/pause";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiWorld, type ApiWorld } from "./world.js";

let world: ApiWorld;
const auth = (role: Role) => ({ authorization: `Bearer ${world.tokens[role]}`, "content-type": "application/json" });
const ESCALATED = "00000000-0000-4000-8000-00000000000e";
const SUCCEEDED = "00000000-0000-4000-8000-000000000005";
const AWAITING = "00000000-0000-4000-8000-00000000000a";

beforeAll(async () => {
  world = await createApiWorld({ name: "api-free-text-surrogates-test" });
  await world.db.pool.query(
    `INSERT INTO findings (id, arn, account_id, region, partition, type, severity, title, resource_type, resource_key, count, archived, sample, gd_created_at, gd_updated_at, raw)
     VALUES ('f1', 'arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/f1', '123456789012', 'us-east-1', 'aws', 'Execution:Runtime/NewBinaryExecuted', 8, 't', 'Instance', 'i-0123456789abcdef0', 1, false, false, now(), now(), '{}')`,
  );
  // One remediation per route's precondition, so that a reason that got past validation would be written.
  for (const [id, status, playbook] of [
    [ESCALATED, "escalated", "instance"],
    [SUCCEEDED, "succeeded", "instance-b"],
    [AWAITING, "awaiting_approval", "instance-c"],
  ]) {
    await world.db.pool.query(
      `INSERT INTO remediations (id, finding_id, playbook, resource_key, account_id, region, mode, status, rule_name, job_id, updated_at)
       VALUES ($1::uuid, 'f1', $3, 'i-0123456789abcdef0', '123456789012', 'us-east-1', 'auto', $2::"RemediationStatus", 'r', $1, now())`,
      [id, status, playbook],
    );
  }
});

afterAll(async () => {
  await world.close();
});

async function auditCount(): Promise<number> {
  const { rows } = await world.db.pool.query<{ n: string }>("SELECT count(*) AS n FROM audit_events");
  return Number(rows[0]?.n);
}

describe("free-text reasons with an unpaired surrogate", () => {
  // Raw JSON text: the escapes reach the parser as written, as a hostile client would send them.
  const reasons = ["abc\\ud800def", "abc\\udc00def", "trailing high \\udbff", "\\udfff leading low"];
  const planHash = "a".repeat(64);

  it("answers 400 on pause, resume, approve, reject, release and retry, and records nothing (a paired surrogate, an emoji, still passes)", async () => {
    const before = await auditCount();
    for (const reason of reasons) {
      const send = (url: string, role: Role, extra = "") => world.app.inject({ method: "POST", url, headers: auth(role), payload: `{"reason":"${reason}"${extra}}` });
      const answers = [
        ["pause", await send("/v1/pause", "admin", ',"paused":true')],
        ["resume", await send("/v1/pause", "admin", ',"paused":false')],
        ["approve", await send(`/v1/remediations/${AWAITING}/approve`, "approver", `,"planHash":"${planHash}"`)],
        ["reject", await send(`/v1/remediations/${AWAITING}/reject`, "approver", `,"planHash":"${planHash}"`)],
        ["release", await send(`/v1/remediations/${SUCCEEDED}/release`, "approver")],
        ["retry", await send(`/v1/remediations/${ESCALATED}/retry`, "approver")],
      ] as const;
      for (const [route, res] of answers) expect(res.statusCode, `${route} ${reason}: ${res.body}`).toBe(400);
    }
    expect(await auditCount()).toBe(before);
    expect((await world.db.pool.query("SELECT 1 FROM control_switches")).rowCount).toBe(0);
    const { rows } = await world.db.pool.query<{ id: string; status: string }>("SELECT id, status::text FROM remediations ORDER BY id");
    expect(rows).toEqual([
      { id: SUCCEEDED, status: "succeeded" },
      { id: AWAITING, status: "awaiting_approval" },
      { id: ESCALATED, status: "escalated" },
    ]);

    const emoji = await world.app.inject({ method: "POST", url: "/v1/pause", headers: auth("admin"), payload: '{"paused":true,"reason":"maintenance \\ud83d\\udd27"}' });
    expect(emoji.statusCode, emoji.body).toBe(200);
    expect(emoji.json()).toMatchObject({ paused: true, reason: "maintenance \u{1F527}" });
  });
});

describe("the kill switch itself", () => {
  it("refuses a reason or actor with an unpaired surrogate before writing anything (callers other than the API: the CLI)", async () => {
    const pause = createPauseSwitch(world.redis.connection, { queuePrefix: `${world.redis.prefix}-cli`, prisma: world.db.prisma });
    const before = await auditCount();
    await expect(pause.pause("cli", "abc\ud800def")).rejects.toThrow(/unpaired UTF-16 surrogate/);
    await expect(pause.resume("cli\udc00", "fine reason")).rejects.toThrow(/unpaired UTF-16 surrogate/);
    expect(await auditCount()).toBe(before);
  });
});
