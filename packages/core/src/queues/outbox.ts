import type { PrismaClient } from "@prisma/client";
import { z } from "zod";
import { RemediationStatus } from "../db/client.js";
import type { Logger } from "../log.js";
import { remediationEvent, type Notifier } from "../notify/event.js";
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
  /**
   * Its remediation was failed: it was waiting for this job (queued, or awaiting_approval with the
   * approval's continuation owed). False: it had moved on (a release asked for on a contained
   * remediation, succeeded or failed already): left as it was, the set-aside only in the audit.
   */
  remediationFailed: boolean;
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
 * row is closed with its reason in `last_error`, its remediation fails with that reason (when it
 * was waiting on that job), and an `outbox.set_aside` audit event records it. Every caller reports
 * the result's `setAside` (reportSetAside: log, count, notice) and answers accordingly.
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
    if (c.ok) continue;
    const aside = await setRowAside(db, c.row, c.reason);
    if (aside) setAside.push({ outboxId: c.row.id, remediationId: c.row.remediation_id, jobId: c.row.job_id, reason: c.reason, ...aside });
  }
  return { dispatched: good.length, setAside };
}

/**
 * Statuses a remediation has while an unsent job of its own is owed: queued (a new remediation, a
 * retry) or awaiting_approval (an approval's continuation, the expiry's `contain`). Not running: a
 * job is carrying it, and failing it under that job would misstate it. Not succeeded or failed: a
 * release request's job was owed, and the resource is still as contained as before.
 */
const WAITING_ON_JOB = [RemediationStatus.queued, RemediationStatus.awaiting_approval];

/**
 * Closes a row that cannot become a job, fails its remediation with the reason if it was waiting
 * on that job (WAITING_ON_JOB), and records an audit event, all in one statement. Null when the
 * row was closed meanwhile (another relay).
 */
async function setRowAside(db: Db, row: OutboxRow, reason: string): Promise<{ remediationFailed: boolean } | null> {
  // A retry rebuilds the job from the remediation's own fields (retry.ts), so it only helps once
  // whatever made this payload bad is corrected: the error says so rather than inviting a retry.
  const error = `its job could not be queued (${row.job_id}): ${reason}; a retry rebuilds the job from the remediation's fields, so retry only once the cause is corrected`.slice(0, 1_000);
  const detail = JSON.stringify({ outboxId: row.id.toString(), queue: row.queue, jobId: row.job_id, reason });
  const done = await db.$queryRaw<{ failed: boolean }[]>`
    WITH aside AS (
      UPDATE outbox SET dispatched_at = now(), attempts = attempts + 1, last_error = ${`set aside: ${reason}`}
       WHERE id = ${row.id} AND dispatched_at IS NULL
   RETURNING remediation_id),
    failed AS (
      UPDATE remediations r SET status = ${RemediationStatus.failed}::"RemediationStatus", error = ${error}, finished_at = now(), updated_at = now()
        FROM aside WHERE r.id = aside.remediation_id AND r.status = ANY(${WAITING_ON_JOB}::"RemediationStatus"[])
   RETURNING r.id),
    audit AS (
      INSERT INTO audit_events (actor, action, finding_id, remediation_id, aws_request_ids, detail)
      SELECT ${OUTBOX_ACTOR}, 'outbox.set_aside', r.finding_id, r.id, '{}'::text[],
             ${detail}::jsonb || jsonb_build_object('remediationFailed', EXISTS (SELECT 1 FROM failed))
        FROM aside JOIN remediations r ON r.id = aside.remediation_id
   RETURNING remediation_id)
    SELECT EXISTS (SELECT 1 FROM failed) AS failed FROM audit`;
  return done[0] ? { remediationFailed: done[0].failed } : null;
}

/** Where a caller of the dispatch functions reports rows set aside (every service has these). */
export interface SetAsideReport {
  logger: Pick<Logger, "error">;
  /** Tells people about each remediation failed by a set-aside; absent, the log and audit say it. */
  notifier?: Notifier | undefined;
  publicUrl?: string | undefined;
  /** Counts the rows set aside (the service's metric). */
  count?: ((n: number) => void) | undefined;
}

/**
 * After the rows' transaction committed: a log line for each row set aside, the count, and a
 * `failed` notice for each remediation the set-aside failed.
 */
export async function reportSetAside(prisma: Pick<PrismaClient, "remediation">, to: SetAsideReport, setAside: readonly SetAsideRow[]): Promise<void> {
  if (setAside.length === 0) return;
  to.count?.(setAside.length);
  for (const s of setAside) {
    to.logger.error(
      { remediationId: s.remediationId, jobId: s.jobId, outboxId: s.outboxId.toString(), reason: s.reason, remediationFailed: s.remediationFailed },
      "outbox row set aside: its job cannot be queued",
    );
  }
  const notifier = to.notifier;
  const failed = setAside.filter((s) => s.remediationFailed).map((s) => s.remediationId);
  if (!notifier || failed.length === 0) return;
  const rows = await prisma.remediation.findMany({ where: { id: { in: failed } } });
  for (const row of rows) notifier.notify(remediationEvent("failed", row, to.publicUrl ?? "", row.error ?? "its job could not be queued"));
}

/** The one set-aside among `result`'s for this remediation, if any. */
export function setAsideFor(result: DispatchResult, remediationId: string): SetAsideRow | undefined {
  return result.setAside.find((s) => s.remediationId === remediationId);
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
