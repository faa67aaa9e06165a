// Rows for a remediation the worker left waiting at the approval gate, written directly (the
// same rows store.awaitApproval writes), for the approval tests.
import type { TestDatabase } from "../support/index.js";

export const HASH = "c".repeat(64);

export interface WaitingSeed {
  /** The frozen plan; a non-destructive containment continuation unless given. */
  plan?: object;
  mode?: "approval" | "auto";
  step?: string;
  /** Status before the gate (a release waits on a contained, i.e. succeeded, remediation). */
  findingId: string;
  /** When the worker froze the plan, in minutes before now (the audit log is append-only, so this is set at insert). */
  frozenMinutesAgo?: number;
}

export async function seedWaiting(db: TestDatabase, seed: WaitingSeed): Promise<string> {
  const plan = seed.plan ?? { action: "continue", steps: [{ name: "isolate", destructive: false, calls: [] }] };
  const step = seed.step ?? "isolate";
  await db.pool.query(
    `INSERT INTO findings (id, arn, account_id, region, partition, type, severity, title, resource_type, resource_key, count, archived, sample, gd_created_at, gd_updated_at, raw)
     VALUES ($1, 'arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/' || $1, '123456789012', 'us-east-1', 'aws', 'Execution:Runtime/NewBinaryExecuted', 8, 't', 'Instance', 'i-0123456789abcdef0', 1, false, false, now(), now(), '{}')`,
    [seed.findingId],
  );
  const r = await db.pool.query<{ id: string }>(
    `INSERT INTO remediations (id, finding_id, playbook, resource_key, account_id, region, mode, status, rule_name, job_id, plan, plan_hash, updated_at)
     VALUES (gen_random_uuid(), $1, 'instance', 'i-0123456789abcdef0', '123456789012', 'us-east-1', $2, 'awaiting_approval', 'r', 'j-' || $1, $3, $4, now())
     RETURNING id::text AS id`,
    [seed.findingId, seed.mode ?? "approval", JSON.stringify(plan), HASH],
  );
  const id = r.rows[0]?.id ?? "";
  await db.pool.query(`INSERT INTO remediation_steps (remediation_id, name, "order", status) VALUES ($1, $2, 1, 'awaiting_approval')`, [id, step]);
  await db.pool.query(
    `INSERT INTO audit_events (at, actor, action, remediation_id, aws_request_ids, detail)
     VALUES (now() - make_interval(mins => $3::int), 'worker', 'remediation.awaiting_approval', $1, '{}', $2)`,
    [id, JSON.stringify({ step, planHash: HASH }), seed.frozenMinutesAgo ?? 0],
  );
  return id;
}

export const findingId = (n: number): string => n.toString(16).padStart(32, "0");
