import type { PrismaClient } from "@prisma/client";
import { jobOptions, QUEUE_CATALOG, remediationJobSchema, type RemediationJob } from "./catalog.js";
import { PLAYBOOKS, type PlaybookName } from "./playbooks.js";
import { queueFor, type RemediationQueues } from "./queues.js";

export interface OutboxRow {
  id: bigint;
  queue: string;
  job_id: string;
  payload: unknown;
}

type Db = Pick<PrismaClient, "$queryRaw" | "$executeRaw">;

/**
 * Adds outbox rows to their BullMQ queues with their deterministic job ids (a re-add of an id
 * BullMQ already holds is a no-op), then marks them dispatched. A crash in between leaves rows
 * pending; adding them again later is harmless.
 */
export async function dispatchRows(db: Db, queues: RemediationQueues, rows: readonly OutboxRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const byQueue = new Map<PlaybookName, OutboxRow[]>();
  for (const row of rows) {
    const name = PLAYBOOKS.find((p) => p === row.queue);
    if (!name) throw new Error(`outbox row ${row.id} names unknown queue ${row.queue}`);
    byQueue.set(name, [...(byQueue.get(name) ?? []), row]);
  }
  for (const [name, queueRows] of byQueue) {
    await queueFor(queues, name).addBulk(
      queueRows.map((row) => {
        const data = remediationJobSchema.parse(row.payload);
        return { name, data, opts: jobOptions(QUEUE_CATALOG[name], row.job_id, data.action) };
      }),
    );
  }
  const ids = rows.map((r) => r.id);
  await db.$executeRaw`UPDATE outbox SET dispatched_at = now(), attempts = attempts + 1 WHERE id = ANY(${ids}::bigint[])`;
  return rows.length;
}

/** Dispatches the pending outbox rows of these remediations (after the transaction that wrote them). */
export async function dispatchForRemediations(db: Db, queues: RemediationQueues, remediationIds: readonly string[]): Promise<number> {
  if (remediationIds.length === 0) return 0;
  const rows = await db.$queryRaw<OutboxRow[]>`
    SELECT id, queue, job_id, payload FROM outbox
     WHERE dispatched_at IS NULL AND remediation_id = ANY(${[...remediationIds]}::uuid[])
     ORDER BY id`;
  return dispatchRows(db, queues, rows);
}

/** The outbox row for a job, ready to insert in the same transaction as the decision behind it. */
export function outboxEntry(job: RemediationJob, jobId: string): { remediationId: string; queue: string; jobId: string; payload: RemediationJob } {
  return { remediationId: job.remediationId, queue: job.playbook, jobId, payload: job };
}
