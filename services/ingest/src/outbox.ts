import type { PrismaClient } from "@gdr/core/db/client";
import type { Logger } from "@gdr/core/log";
import type { Notifier } from "@gdr/core/notify/index";
import { dispatchRows, reportSetAside, type DispatchResult, type OutboxRow, type SetAsideRow } from "@gdr/core/queues/outbox";
import type { RemediationQueues } from "@gdr/core/queues/queues";
import type { IngestMetrics } from "./metrics.js";

export interface OutboxRelay {
  /** Enqueues the pending outbox rows of these findings (the batch just committed). */
  dispatchForFindings(findingIds: readonly string[]): Promise<number>;
  /** Enqueues rows left pending by a crash or an outage; safe to run on many replicas at once. */
  dispatchStale(olderThanMs: number, limit?: number): Promise<number>;
  /** Refreshes the pending-count and lag gauges. */
  measure(): Promise<void>;
}

export interface OutboxRelayDeps {
  prisma: PrismaClient;
  queues: RemediationQueues;
  logger: Logger;
  metrics: IngestMetrics;
  /** Tells people about remediations failed because their job could not be queued. */
  notifier: Notifier;
  /** The API's base URL as people reach it, for links in notifications. */
  publicUrl: string;
}

/**
 * Moves committed remediations from the outbox table to BullMQ. A row is marked dispatched only
 * after BullMQ confirmed the add; a crash in between means the row is added again later, which the
 * deterministic job id turns into a no-op. A row that cannot become a job is set aside by core
 * (its remediation failed, an audit event) and reported here, while the rest of its batch goes on.
 */
export function createOutboxRelay(deps: OutboxRelayDeps): OutboxRelay {
  async function dispatch(rows: OutboxRow[], db: Parameters<typeof dispatchRows>[0] = deps.prisma): Promise<DispatchResult> {
    const result = await dispatchRows(db, deps.queues, rows);
    deps.metrics.outboxDispatched.inc(result.dispatched);
    return result;
  }

  /** After the rows' transaction committed: a log line, a count and a notice for each row set aside. */
  function report(setAside: readonly SetAsideRow[]): Promise<void> {
    const count = (n: number): void => {
      deps.metrics.outboxSetAside.inc(n);
    };
    return reportSetAside(deps.prisma, { logger: deps.logger, notifier: deps.notifier, publicUrl: deps.publicUrl, count }, setAside);
  }

  return {
    async dispatchForFindings(findingIds) {
      if (findingIds.length === 0) return 0;
      const rows = await deps.prisma.$queryRaw<OutboxRow[]>`
        SELECT o.id, o.remediation_id::text AS remediation_id, o.queue, o.job_id, o.payload
          FROM outbox o JOIN remediations r ON r.id = o.remediation_id
         WHERE o.dispatched_at IS NULL AND r.finding_id = ANY(${[...findingIds]}::text[])
         ORDER BY o.id`;
      const result = await dispatch(rows);
      await report(result.setAside);
      return result.dispatched;
    },

    async dispatchStale(olderThanMs, limit = 200) {
      // SKIP LOCKED: several ingest replicas can run the relay without waiting on each other.
      const result = await deps.prisma.$transaction(async (tx) => {
        const rows = await tx.$queryRaw<OutboxRow[]>`
          SELECT id, remediation_id::text AS remediation_id, queue, job_id, payload FROM outbox
           WHERE dispatched_at IS NULL AND created_at < now() - make_interval(secs => ${olderThanMs / 1000})
           ORDER BY created_at LIMIT ${limit}
           FOR UPDATE SKIP LOCKED`;
        if (rows.length === 0) return { dispatched: 0, setAside: [] };
        try {
          return await dispatch(rows, tx);
        } catch (err) {
          // Redis refused: nothing was closed (core sets rows aside only once the others are
          // queued), and every row is tried again at the next pass.
          const ids = rows.map((r) => r.id);
          await tx.$executeRaw`UPDATE outbox SET attempts = attempts + 1, last_error = ${String(err).slice(0, 500)} WHERE id = ANY(${ids}::bigint[])`;
          deps.logger.warn({ err, rows: rows.length }, "outbox relay could not enqueue; will retry");
          return { dispatched: 0, setAside: [] };
        }
      });
      await report(result.setAside);
      if (result.dispatched > 0) deps.logger.info({ rows: result.dispatched }, "outbox relay enqueued remediations left pending");
      return result.dispatched;
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
