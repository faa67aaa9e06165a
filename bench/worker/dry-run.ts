// Phase 1: dry-run throughput through the real worker (createWorkerService against moto). The
// remediations are recorded and enqueued before the worker starts, so only the worker is timed:
// from start() until BullMQ has completed every job.
import pg from "pg";
import type { Logger } from "@gdr/core/log";
import { createMetricsRegistry } from "@gdr/core/metrics";
import { dispatchForRemediations } from "@gdr/core/queues/outbox";
import { closeQueues, createQueues, queueFor } from "@gdr/core/queues/queues";
import { createRedis } from "@gdr/core/queues/redis";
import type { PrismaClient } from "@gdr/core/db/client";
import type { TokenBucket } from "@gdr/worker/engine/limits/index";
import type { WorkerConfig } from "@gdr/worker/config";
import { createWorkerService } from "@gdr/worker/service";
import { waitUntil } from "../../test/support/index.js";
import { awsCallTally, countPgStatements, Tally, watchLimits, type LimitWatch } from "./instrument.js";

export interface PgCounters {
  xact_commit: number;
  tup_inserted: number;
  tup_updated: number;
  tup_fetched: number;
}

export interface DryRunResult {
  ms: number;
  done: number;
  failed: number;
  aws: Tally;
  statements: Tally;
  watch: LimitWatch;
  /** pg_stat_database deltas over the run (the worker's connections are closed first, which flushes them). */
  pgStat: PgCounters;
  enqueueMs: number;
}

export async function readPgCounters(databaseUrl: string): Promise<PgCounters> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const out = await client.query<Record<keyof PgCounters, string>>(
      "SELECT xact_commit, tup_inserted, tup_updated, tup_fetched FROM pg_stat_database WHERE datname = current_database()",
    );
    const row = out.rows[0];
    if (!row) throw new Error("pg_stat_database has no row for this database");
    return { xact_commit: Number(row.xact_commit), tup_inserted: Number(row.tup_inserted), tup_updated: Number(row.tup_updated), tup_fetched: Number(row.tup_fetched) };
  } finally {
    await client.end();
  }
}

export async function benchDryRun(o: {
  prisma: PrismaClient;
  config: Readonly<WorkerConfig>;
  remediationIds: readonly string[];
  fixedBuckets: TokenBucket | undefined;
  logger: Logger;
}): Promise<DryRunResult> {
  const total = o.remediationIds.length;
  const producer = createRedis(o.config.REDIS_URL, "producer");
  const queues = createQueues(producer, o.config.QUEUE_PREFIX);
  const enqueueStarted = performance.now();
  // The same dispatch ingest uses after its transaction commits.
  for (let i = 0; i < total; i += 100) await dispatchForRemediations(o.prisma, queues, o.remediationIds.slice(i, i + 100));
  const enqueueMs = performance.now() - enqueueStarted;
  const queue = queueFor(queues, "instance");

  const aws = new Tally();
  const service = createWorkerService(o.config, { logger: o.logger, registry: createMetricsRegistry({ service: "bench-worker" }), awsMiddleware: awsCallTally(aws) });
  const watch = watchLimits(service, o.fixedBuckets);
  const before = await readPgCounters(o.config.DATABASE_URL);
  // Only the worker talks to Postgres from here on (progress is read from Redis).
  const statements = countPgStatements();
  const started = performance.now();
  await service.start();
  let counts: Record<string, number> = {};
  await waitUntil(
    async () => {
      counts = await queue.getJobCounts("completed", "failed");
      return (counts["completed"] ?? 0) + (counts["failed"] ?? 0) >= total;
    },
    { attempts: 20 * 60 * 20, intervalMs: 50, what: `${total} dry-run jobs` },
  );
  const ms = performance.now() - started;
  statements.stop();
  await service.stop();
  // Backends flush their statistics when they exit: give the closed connections a moment.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = await readPgCounters(o.config.DATABASE_URL);
  const done = await o.prisma.remediation.count({ where: { id: { in: [...o.remediationIds] }, status: "dry_run" } });
  await closeQueues(queues);
  producer.disconnect();
  return {
    ms,
    done,
    failed: counts["failed"] ?? 0,
    aws,
    statements: statements.tally,
    watch,
    enqueueMs,
    pgStat: {
      xact_commit: after.xact_commit - before.xact_commit,
      tup_inserted: after.tup_inserted - before.tup_inserted,
      tup_updated: after.tup_updated - before.tup_updated,
      tup_fetched: after.tup_fetched - before.tup_fetched,
    },
  };
}
