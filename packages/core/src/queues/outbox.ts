import type { PrismaClient } from "@prisma/client";
import { z } from "zod";
import { RemediationStatus } from "../db/client.js";
import { jobOptions, QUEUE_CATALOG, remediationJobSchema, type RemediationJob } from "./catalog.js";
import { PLAYBOOKS, type PlaybookName } from "./playbooks.js";
import { queueFor, type RemediationQueues } from "./queues.js";

export interface OutboxRow {
  id: bigint;
  remediation_id: string;
  queue: string;
  job_id: string;
  payload: unknown;
}

/** A row that could not become a job, and why: it was set aside, its remediation failed. */
export interface SetAsideRow {
  outboxId: bigint;
  remediationId: string;
  jobId: string;
  reason: string;
}

export interface DispatchResult {
  /** Rows added to BullMQ (or already there under their id) and marked dispatched. */
  dispatched: number;
  setAside: SetAsideRow[];
}

/** Who the audit trail names for a row the relay set aside. */
export const OUTBOX_ACTOR = "system:outbox";

type Db = Pick<PrismaClient, "$queryRaw" | "$executeRaw">;

type Good = { ok: true; row: OutboxRow; queue: PlaybookName; job: RemediationJob };
type Checked = Good | { ok: false; row: OutboxRow; reason: string };

/** Whether a row can become a job: a known queue, and a payload the worker will accept, for its own remediation. */
function check(row: OutboxRow): Checked {
  const queue = PLAYBOOKS.find((p) => p === row.queue);
  if (!queue) return { ok: false, row, reason: `unknown queue ${JSON.stringify(row.queue)}` };
  const parsed = remediationJobSchema.safeParse(row.payload);
  if (!parsed.success) return { ok: false, row, reason: `payload refused: ${z.prettifyError(parsed.error).replace(/\s*\n\s*/g, "; ")}`.slice(0, 500) };
  const job = parsed.data;
  if (job.playbook !== queue) return { ok: false, row, reason: `payload is for playbook ${job.playbook}, the row for queue ${queue}` };
  if (job.remediationId !== row.remediation_id) return { ok: false, row, reason: `payload names remediation ${job.remediationId}, the row ${row.remediation_id}` };
  return { ok: true, row, queue, job };
}

/**
 * Adds outbox rows to their BullMQ queues with their deterministic job ids (a re-add of an id
 * BullMQ already holds is a no-op), then marks them dispatched. A crash in between leaves rows
 * pending; adding them again later is harmless.
 *
 * A row that cannot become a job (its payload fails the catalog's schema, its queue is unknown) is
 * set aside on its own, so that it never holds back the rest of the batch: in one statement the
 * row is closed with its reason in `last_error`, its remediation fails with that reason, and an
 * `outbox.set_aside` audit event records it. The caller tells people (it holds the notifier).
 * Redis failing still fails the call: those rows are fine and are added again later.
 */
export async function dispatchRows(db: Db, queues: RemediationQueues, rows: readonly OutboxRow[]): Promise<DispatchResult> {
  const checked = rows.map(check);
  const good = checked.filter((c): c is Good => c.ok);
  const byQueue = new Map<PlaybookName, Good[]>();
  for (const c of good) byQueue.set(c.queue, [...(byQueue.get(c.queue) ?? []), c]);
  for (const [name, entries] of byQueue) {
    await queueFor(queues, name).addBulk(
      entries.map((c) => ({ name, data: c.job, opts: jobOptions(QUEUE_CATALOG[name], c.row.job_id, c.job.action) })),
    );
  }
  if (good.length > 0) {
    const ids = good.map((c) => c.row.id);
    await db.$executeRaw`UPDATE outbox SET dispatched_at = now(), attempts = attempts + 1 WHERE id = ANY(${ids}::bigint[])`;
  }
  // Only once the good rows are queued: when Redis fails, nothing is closed and the caller's
  // retry sees the whole batch again.
  const setAside: SetAsideRow[] = [];
  for (const c of checked) {
    if (!c.ok && (await setRowAside(db, c.row, c.reason))) {
      setAside.push({ outboxId: c.row.id, remediationId: c.row.remediation_id, jobId: c.row.job_id, reason: c.reason });
    }
  }
  return { dispatched: good.length, setAside };
}

/**
 * Closes a row that cannot become a job, fails its remediation with the reason and records an
 * audit event, all in one statement. False when the row was closed meanwhile (another relay).
 */
async function setRowAside(db: Db, row: OutboxRow, reason: string): Promise<boolean> {
  const error = `its job could not be queued (${row.job_id}): ${reason}; retry it once the cause is fixed`.slice(0, 1_000);
  const detail = JSON.stringify({ outboxId: row.id.toString(), queue: row.queue, jobId: row.job_id, reason });
  const done = await db.$queryRaw<{ id: string }[]>`
    WITH aside AS (
      UPDATE outbox SET dispatched_at = now(), attempts = attempts + 1, last_error = ${`set aside: ${reason}`}
       WHERE id = ${row.id} AND dispatched_at IS NULL
   RETURNING remediation_id),
    failed AS (
      UPDATE remediations r SET status = ${RemediationStatus.failed}::"RemediationStatus", error = ${error}, finished_at = now(), updated_at = now()
        FROM aside WHERE r.id = aside.remediation_id
   RETURNING r.id, r.finding_id)
    INSERT INTO audit_events (actor, action, finding_id, remediation_id, aws_request_ids, detail)
    SELECT ${OUTBOX_ACTOR}, 'outbox.set_aside', finding_id, id, '{}'::text[], ${detail}::jsonb FROM failed
    RETURNING remediation_id::text AS id`;
  return done.length > 0;
}

/** Dispatches the pending outbox rows of these remediations (after the transaction that wrote them). */
export async function dispatchForRemediations(db: Db, queues: RemediationQueues, remediationIds: readonly string[]): Promise<DispatchResult> {
  if (remediationIds.length === 0) return { dispatched: 0, setAside: [] };
  const rows = await db.$queryRaw<OutboxRow[]>`
    SELECT id, remediation_id::text AS remediation_id, queue, job_id, payload FROM outbox
     WHERE dispatched_at IS NULL AND remediation_id = ANY(${[...remediationIds]}::uuid[])
     ORDER BY id`;
  return dispatchRows(db, queues, rows);
}

/** The outbox row for a job, ready to insert in the same transaction as the decision behind it. */
export function outboxEntry(job: RemediationJob, jobId: string): { remediationId: string; queue: string; jobId: string; payload: RemediationJob } {
  return { remediationId: job.remediationId, queue: job.playbook, jobId, payload: job };
}
