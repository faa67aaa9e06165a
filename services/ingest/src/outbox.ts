import type { Logger } from "@gdr/core/log";
import type { PrismaClient } from "@gdr/core/db/client";
import { jobOptions, QUEUE_CATALOG, remediationJobSchema } from "@gdr/core/queues/catalog";
import { PLAYBOOKS, type PlaybookName } from "@gdr/core/queues/playbooks";
import { queueFor, type RemediationQueues } from "@gdr/core/queues/queues";
import type { IngestMetrics } from "./metrics.js";

interface PendingRow {
  id: bigint;
  queue: string;
  job_id: string;
  payload: unknown;
}

export interface OutboxRelay {
  /** Enqueues the pending outbox rows of these findings (the batch just committed). */
  dispatchForFindings(findingIds: readonly string[]): Promise<number>;
  /** Enqueues rows left pending by a crash or an outage; safe to run on many replicas at once. */
  dispatchStale(olderThanMs: number, limit?: number): Promise<number>;
  /** Refreshes the pending-count and lag gauges. */
  measure(): Promise<void>;
}

/**
 * Moves committed remediations from the outbox table to BullMQ. A row is marked dispatched only
 * after BullMQ confirmed the add; a crash in between means the row is added again later, which the
 * deterministic job id turns into a no-op.
 */
export function createOutboxRelay(deps: { prisma: PrismaClient; queues: RemediationQueues; logger: Logger; metrics: IngestMetrics }): OutboxRelay {
  async function enqueue(rows: PendingRow[]): Promise<void> {
    const byQueue = new Map<PlaybookName, PendingRow[]>();
    for (const row of rows) {
      const name = PLAYBOOKS.find((p) => p === row.queue);
      if (!name) throw new Error(`outbox row ${row.id} names unknown queue ${row.queue}`);
      byQueue.set(name, [...(byQueue.get(name) ?? []), row]);
    }
    for (const [name, queueRows] of byQueue) {
      const definition = QUEUE_CATALOG[name];
      await queueFor(deps.queues, name).addBulk(
        queueRows.map((row) => ({
          name,
          data: remediationJobSchema.parse(row.payload),
          opts: jobOptions(definition, row.job_id),
        })),
      );
    }
  }

  async function markDispatched(rows: PendingRow[], client: Pick<PrismaClient, "$executeRaw"> = deps.prisma): Promise<void> {
    const ids = rows.map((r) => r.id);
    await client.$executeRaw`UPDATE outbox SET dispatched_at = now(), attempts = attempts + 1 WHERE id = ANY(${ids}::bigint[])`;
    deps.metrics.outboxDispatched.inc(rows.length);
  }

  return {
    async dispatchForFindings(findingIds) {
      if (findingIds.length === 0) return 0;
      const rows = await deps.prisma.$queryRaw<PendingRow[]>`
        SELECT o.id, o.queue, o.job_id, o.payload
          FROM outbox o JOIN remediations r ON r.id = o.remediation_id
         WHERE o.dispatched_at IS NULL AND r.finding_id = ANY(${[...findingIds]}::text[])
         ORDER BY o.id`;
      if (rows.length === 0) return 0;
      await enqueue(rows);
      await markDispatched(rows);
      return rows.length;
    },

    async dispatchStale(olderThanMs, limit = 200) {
      // SKIP LOCKED: several ingest replicas can run the relay without waiting on each other.
      return deps.prisma.$transaction(async (tx) => {
        const rows = await tx.$queryRaw<PendingRow[]>`
          SELECT id, queue, job_id, payload FROM outbox
           WHERE dispatched_at IS NULL AND created_at < now() - make_interval(secs => ${olderThanMs / 1000})
           ORDER BY created_at LIMIT ${limit}
           FOR UPDATE SKIP LOCKED`;
        if (rows.length === 0) return 0;
        try {
          await enqueue(rows);
        } catch (err) {
          const ids = rows.map((r) => r.id);
          await tx.$executeRaw`UPDATE outbox SET attempts = attempts + 1, last_error = ${String(err).slice(0, 500)} WHERE id = ANY(${ids}::bigint[])`;
          deps.logger.warn({ err, rows: rows.length }, "outbox relay could not enqueue; will retry");
          return 0;
        }
        await markDispatched(rows, tx);
        deps.logger.info({ rows: rows.length }, "outbox relay enqueued remediations left pending");
        return rows.length;
      });
    },

    async measure() {
      const rows = await deps.prisma.$queryRaw<{ pending: bigint; oldest: Date | null }[]>`
        SELECT count(*) AS pending, min(created_at) AS oldest FROM outbox WHERE dispatched_at IS NULL`;
      const row = rows[0];
      deps.metrics.outboxPending.set(Number(row?.pending ?? 0));
      deps.metrics.outboxLagSeconds.set(row?.oldest ? Math.max(0, (Date.now() - row.oldest.getTime()) / 1000) : 0);
    },
  };
}
