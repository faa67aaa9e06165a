// The allow list holds in the API (app.inject, real Postgres and Redis): remediations recorded
// while their account was allowed, decided after it was taken off the policy's accounts.allow.
// Approve, retry and release are refused with the reason (403 account_not_allowed), an audit event
// and a notification; nothing is enqueued (no outbox row, no BullMQ job) and nothing changes. In an
// account still allowed, the same decisions go through (so the refusals are the allow list's).
import type { NotificationEvent } from "@gdr/core/notify/index";
import { parsePolicy } from "@gdr/core/policy/index";
import { PLAYBOOKS } from "@gdr/core/queues/playbooks";
import { queueFor } from "@gdr/core/queues/queues";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiWorld, type ApiWorld } from "./world.js";

const ALLOWED = "111122223333";
/** Was in accounts.allow when its findings arrived; the policy the API now runs no longer lists it. */
const REMOVED = "444455556666";
const HASH = "d".repeat(64);
const PLAN = { action: "continue", steps: [{ name: "terminate", destructive: true, calls: [] }] };

let world: ApiWorld;
const notified: NotificationEvent[] = [];
let seq = 0;

beforeAll(async () => {
  world = await createApiWorld({
    name: "api-allow-list-test",
    policy: parsePolicy(`version: 1\naccounts:\n  allow: ["${ALLOWED}"]\nrules: []\n`, "allow-list-test.yaml"),
    notifier: { notify: (event) => void notified.push(event) },
  });
});

afterAll(async () => {
  await world.close();
});

type Status = "awaiting_approval" | "failed" | "succeeded";

/** A finding and its remediation in `account`, as ingest and the worker left them. */
async function seed(account: string, status: Status): Promise<string> {
  // A GuardDuty finding id (32 hex), as ingest would have stored it.
  const findingId = (++seq).toString(16).padStart(32, "0");
  await world.db.pool.query(
    `INSERT INTO findings (id, arn, account_id, region, partition, type, severity, title, resource_type, resource_key, count, archived, sample, gd_created_at, gd_updated_at, raw)
     VALUES ($1, 'arn:aws:guardduty:us-east-1:' || $2 || ':detector/d/finding/' || $1, $2, 'us-east-1', 'aws', 'Execution:Runtime/NewBinaryExecuted', 8, 't', 'Instance', 'i-0123456789abcdef0', 1, false, false, now(), now(), '{}')`,
    [findingId, account],
  );
  const r = await world.db.pool.query<{ id: string }>(
    `INSERT INTO remediations (id, finding_id, playbook, resource_key, account_id, region, mode, status, rule_name, job_id, plan, plan_hash, contained_at, updated_at)
     VALUES (gen_random_uuid(), $1, 'instance', 'i-0123456789abcdef0', $2, 'us-east-1', 'approval', $3, 'r', 'j-' || $1, $4, $5, now(), now())
     RETURNING id::text AS id`,
    [findingId, account, status, status === "awaiting_approval" ? JSON.stringify(PLAN) : null, status === "awaiting_approval" ? HASH : null],
  );
  const id = r.rows[0]?.id ?? "";
  const steps: [string, string][] =
    status === "awaiting_approval" ? [["isolate", "succeeded"], ["terminate", "awaiting_approval"]] : status === "failed" ? [["isolate", "succeeded"], ["snapshot", "failed"]] : [["isolate", "succeeded"]];
  for (const [n, [name, stepStatus]] of steps.entries()) {
    await world.db.pool.query(`INSERT INTO remediation_steps (remediation_id, name, "order", status) VALUES ($1, $2, $3, $4)`, [id, name, n + 1, stepStatus]);
  }
  return id;
}

/** What a decision could have changed: the remediation row, its steps, approvals, outbox rows and BullMQ jobs. */
async function stateOf(id: string) {
  const q = async (sql: string): Promise<unknown[]> => (await world.db.pool.query<Record<string, unknown>>(sql, [id])).rows;
  const jobs = (await Promise.all(PLAYBOOKS.map((p) => queueFor(world.queues, p).getJobs(["waiting", "delayed", "active", "prioritized", "paused"]))))
    .flat()
    .filter((j) => (j.data as { remediationId?: string }).remediationId === id);
  return {
    remediation: await q("SELECT status::text, plan_hash, error, updated_at FROM remediations WHERE id = $1"),
    steps: await q(`SELECT name, status::text FROM remediation_steps WHERE remediation_id = $1 ORDER BY "order"`),
    approvals: await q("SELECT decision::text FROM approvals WHERE remediation_id = $1"),
    outbox: await q("SELECT job_id FROM outbox WHERE remediation_id = $1"),
    jobs: jobs.map((j) => j.id),
  };
}

const decide = (id: string, action: "approve" | "retry" | "release" | "reject") =>
  world.app.inject({
    method: "POST",
    url: `/v1/remediations/${id}/${action}`,
    headers: { authorization: `Bearer ${world.tokens.approver}` },
    payload: action === "approve" || action === "reject" ? { reason: "reviewed the plan", planHash: HASH } : { reason: "try it again" },
  });

const cases: { action: "approve" | "retry" | "release"; status: Status }[] = [
  { action: "approve", status: "awaiting_approval" },
  { action: "retry", status: "failed" },
  { action: "release", status: "succeeded" },
];

describe("an account taken off accounts.allow", () => {
  for (const { action, status } of cases) {
    it(`refuses ${action} of a ${status} remediation there with account_not_allowed, an audit event and a notification; nothing enqueued, nothing changed`, async () => {
      const id = await seed(REMOVED, status);
      const before = await stateOf(id);
      notified.length = 0;

      const res = await decide(id, action);
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json()).toMatchObject({ error: "account_not_allowed", message: expect.stringContaining(REMOVED) as unknown });

      expect(await stateOf(id)).toEqual(before);
      expect(before.outbox).toEqual([]);
      expect(before.jobs).toEqual([]);
      const events = await world.db.pool.query("SELECT actor, action, detail FROM audit_events WHERE remediation_id = $1", [id]);
      expect(events.rows).toEqual([{ actor: "token:t-approver", action: `${action}.refused`, detail: { reason: "account_not_allowed", accountId: REMOVED, status } }]);
      expect(notified).toEqual([
        expect.objectContaining({ kind: "refused", remediationId: id, accountId: REMOVED, detail: expect.stringContaining("account_not_allowed") as unknown }),
      ]);
    });

    it(`lets ${action} of a ${status} remediation through in an account still allowed`, async () => {
      const id = await seed(ALLOWED, status);
      const res = await decide(id, action);
      expect(res.statusCode, res.body).toBe(200);
      const after = await stateOf(id);
      expect(after.outbox).toHaveLength(1);
      expect(after.jobs).toHaveLength(1);
    });
  }

  it("still lets a person reject a plan there (ending it changes nothing in AWS)", async () => {
    const id = await seed(REMOVED, "awaiting_approval");
    const res = await decide(id, "reject");
    expect(res.statusCode, res.body).toBe(200);
    const after = await stateOf(id);
    expect(after.approvals).toEqual([{ decision: "rejected" }]);
    expect(after.jobs).toEqual([]);
  });
});
