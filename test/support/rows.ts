// The rows tests assert on, read with plain SQL (node-postgres), never through the code under
// test. One reader per table, each row with every column a test reads; the filters are optional,
// so a test of one remediation and a test of a whole database use the same reader.
import type { TestDatabase } from "./database.js";
import { waitUntil } from "./wait.js";

export interface RemediationRow {
  id: string;
  finding_id: string;
  playbook: string;
  resource_key: string;
  account_id: string;
  region: string;
  mode: string;
  status: string;
  rule_name: string;
  job_id: string;
  plan: unknown;
  plan_hash: string | null;
  error: string | null;
  recoveries: number;
  stuck_notified_at: Date | null;
}

const REMEDIATION_COLUMNS = `id::text AS id, finding_id, playbook, resource_key, account_id, region, mode::text AS mode,
       status::text AS status, rule_name, job_id, plan, plan_hash, error, recoveries, stuck_notified_at`;

export async function remediationRows(db: TestDatabase, where: { findingId?: string; resourceKey?: string } = {}): Promise<RemediationRow[]> {
  const { rows } = await db.pool.query<RemediationRow>(
    `SELECT ${REMEDIATION_COLUMNS}
       FROM remediations
      WHERE ($1::text IS NULL OR finding_id = $1) AND ($2::text IS NULL OR resource_key = $2)
      ORDER BY created_at, id`,
    [where.findingId ?? null, where.resourceKey ?? null],
  );
  return rows;
}

export async function remediationRow(db: TestDatabase, id: string): Promise<RemediationRow> {
  const { rows } = await db.pool.query<RemediationRow>(`SELECT ${REMEDIATION_COLUMNS} FROM remediations WHERE id = $1::uuid`, [id]);
  const row = rows[0];
  if (!row) throw new Error(`no remediation ${id}`);
  return row;
}

/** Waits for ingest to have created the finding's remediation (one), and returns it. */
export async function remediationForFinding(db: TestDatabase, findingId: string): Promise<RemediationRow> {
  let found: RemediationRow | undefined;
  await waitUntil(
    async () => {
      found = (await remediationRows(db, { findingId }))[0];
      return found !== undefined;
    },
    { attempts: 150, intervalMs: 100, what: `a remediation for finding ${findingId}` },
  );
  if (!found) throw new Error("unreachable");
  return found;
}

export async function waitForStatus(db: TestDatabase, id: string, statuses: readonly string[], attempts = 300): Promise<RemediationRow> {
  let row: RemediationRow | undefined;
  await waitUntil(
    async () => {
      row = await remediationRow(db, id);
      return statuses.includes(row.status);
    },
    { attempts, intervalMs: 100, what: `remediation ${id} to be ${statuses.join(" or ")} (last: ${row?.status ?? "?"}, ${row?.error ?? ""})` },
  );
  if (!row) throw new Error("unreachable");
  return row;
}

export interface StepRow {
  name: string;
  order: number;
  status: string;
  attempts: number;
  output: unknown;
  error_class: string | null;
  error_code: string | null;
  started_at: Date | null;
  finished_at: Date | null;
}

export async function stepRows(db: TestDatabase, remediationId: string): Promise<StepRow[]> {
  const { rows } = await db.pool.query<StepRow>(
    `SELECT name, "order", status::text AS status, attempts, output, error_class, error_code, started_at, finished_at
       FROM remediation_steps WHERE remediation_id = $1::uuid ORDER BY "order", id`,
    [remediationId],
  );
  return rows;
}

export function stepMap(rows: readonly StepRow[]): Map<string, StepRow> {
  return new Map(rows.map((r) => [r.name, r]));
}

export interface AuditRow {
  actor: string;
  action: string;
  finding_id: string | null;
  remediation_id: string | null;
  /** detail.step, detail.note and detail.code, the parts of the detail most tests read. */
  step: string | null;
  note: string | null;
  code: string | null;
  detail: Record<string, unknown>;
  aws_request_ids: string[];
  at: Date;
}

/** Audit events, oldest first: of one remediation and/or by one actor, or all of them. */
export async function auditRows(db: TestDatabase, where: { remediationId?: string; actor?: string } = {}): Promise<AuditRow[]> {
  const { rows } = await db.pool.query<AuditRow>(
    `SELECT actor, action, finding_id, remediation_id::text AS remediation_id, detail->>'step' AS step, detail->>'note' AS note,
            detail->>'code' AS code, detail, aws_request_ids, at
       FROM audit_events
      WHERE ($1::text IS NULL OR remediation_id = $1::uuid) AND ($2::text IS NULL OR actor = $2)
      ORDER BY id`,
    [where.remediationId ?? null, where.actor ?? null],
  );
  return rows;
}

export interface OutboxRow {
  remediation_id: string;
  queue: string;
  job_id: string;
  payload: unknown;
  /** payload.action (contain, continue, evidence, release…). */
  action: string;
  dispatched_at: Date | null;
  dispatched: boolean;
  attempts: number;
  last_error: string | null;
}

export async function outboxRows(db: TestDatabase, where: { remediationId?: string } = {}): Promise<OutboxRow[]> {
  const { rows } = await db.pool.query<OutboxRow>(
    `SELECT remediation_id::text AS remediation_id, queue, job_id, payload, payload->>'action' AS action, dispatched_at,
            dispatched_at IS NOT NULL AS dispatched, attempts, last_error
       FROM outbox WHERE ($1::text IS NULL OR remediation_id = $1::uuid) ORDER BY id`,
    [where.remediationId ?? null],
  );
  return rows;
}

export interface ApprovalRow {
  step: string;
  decision: string;
  actor: string;
  plan_hash: string;
}

export async function approvalRows(db: TestDatabase, remediationId: string): Promise<ApprovalRow[]> {
  const { rows } = await db.pool.query<ApprovalRow>(
    "SELECT step, decision::text AS decision, actor, plan_hash FROM approvals WHERE remediation_id = $1::uuid ORDER BY decided_at",
    [remediationId],
  );
  return rows;
}

export interface ReceiptRow {
  sqs_message_id: string;
  body_sha256: string;
  body_bytes: number;
  outcome: string;
  reason: string;
  detail: string | null;
  finding_id: string | null;
  finding_count: number | null;
  finding_updated_at: Date | null;
  rejected_body: Buffer | null;
  deliveries: number;
}

/** Ingest's receipts, oldest first: of these SQS messages, or all of them. */
export async function receiptRows(db: TestDatabase, where: { messageIds?: readonly string[] } = {}): Promise<ReceiptRow[]> {
  const { rows } = await db.pool.query<ReceiptRow>(
    `SELECT sqs_message_id, body_sha256, body_bytes, outcome::text AS outcome, reason, detail, finding_id, finding_count,
            finding_updated_at, rejected_body, deliveries
       FROM ingest_receipts WHERE ($1::text[] IS NULL OR sqs_message_id = ANY($1::text[])) ORDER BY id`,
    [where.messageIds ? [...where.messageIds] : null],
  );
  return rows;
}

export async function receiptCount(db: TestDatabase): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM ingest_receipts");
  return rows[0]?.n ?? 0;
}

/** Waits until every one of these SQS messages has its receipt. */
export async function waitForReceipts(db: TestDatabase, messageIds: readonly string[]): Promise<void> {
  await waitUntil(async () => (await receiptRows(db, { messageIds })).length === messageIds.length, {
    attempts: 150,
    intervalMs: 100,
    what: `receipts for ${messageIds.length} message(s)`,
  });
}

export interface FindingRow {
  id: string;
  account_id: string;
  region: string;
  type: string;
  severity: string;
  resource_type: string;
  resource_key: string | null;
  count: number;
  archived: boolean;
  sample: boolean;
  gd_updated_at: Date;
  last_seen_at: Date;
  raw: unknown;
}

export async function findingRows(db: TestDatabase): Promise<FindingRow[]> {
  const { rows } = await db.pool.query<FindingRow>(
    `SELECT id, account_id, region, type, severity::text AS severity, resource_type, resource_key, count, archived, sample,
            gd_updated_at, last_seen_at, raw
       FROM findings ORDER BY id`,
  );
  return rows;
}
