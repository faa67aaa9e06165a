// Phases 1 and 2 of bench/worker.ts: dry-run throughput through the real worker, then the floor
// for the same durability (bare BullMQ Workers writing what a dry-run writes), and their ratio.
import pg from "pg";
import { createPrisma, type PrismaClient } from "@gdr/core/db/client";
import type { Logger } from "@gdr/core/log";
import type { WorkerConfig } from "@gdr/worker/config";
import type { BucketSpecs, TokenBucket } from "@gdr/worker/engine/limits/index";
import type { SeedClients } from "../../test/support/index.js";
import { benchDryRun } from "./dry-run.js";
import { seedFleet } from "./fleet.js";
import { bareWorkerMs, readDryRunSample, sqlWrites, storeWrites } from "./floor.js";
import { cpuMeter, describeCpu } from "./instrument.js";
import { recordRemediations } from "./records.js";
import { printBucketCaps, printCalls, printLimits, printStatements } from "./report.js";

export interface DryRunPhaseOptions {
  clients: SeedClients;
  prisma: PrismaClient;
  config: Readonly<WorkerConfig>;
  logger: Logger;
  accountId: string;
  remediations: number;
  instances: number;
  targetGroups: number;
  concurrency: number;
  fixedBuckets: TokenBucket | undefined;
  raised: BucketSpecs | undefined;
  withFloor: boolean;
}

export async function dryRunPhases(o: DryRunPhaseOptions): Promise<void> {
  const fleet = await seedFleet(o.clients, { instances: o.instances, vpcs: 1, targetGroupsPerVpc: o.targetGroups, label: "dry" });
  const recordStarted = performance.now();
  const ids = await recordRemediations(o.prisma, fleet.instances, o.remediations, "dry_run", o.accountId);
  const recordMs = performance.now() - recordStarted;
  console.log(
    `\n1. dry-run through the real worker: ${o.remediations} remediations over ${o.instances} instances in one VPC with ${fleet.targetGroups} shared target groups ` +
      `(round robin, job i on instance i mod ${o.instances}: the ${o.concurrency} jobs in flight never contend for an instance's lock); ` +
      `seeded in ${(fleet.seedMs / 1000).toFixed(1)} s, recorded with ingest's recordBatch in ${(recordMs / 1000).toFixed(1)} s`,
  );
  const cpu = cpuMeter();
  const result = await benchDryRun({ prisma: o.prisma, config: o.config, remediationIds: ids, fixedBuckets: o.fixedBuckets, logger: o.logger });
  const usage = cpu.read();
  const rate = (result.done / result.ms) * 1000;
  console.log(
    `   worker            : ${rate.toFixed(1).padStart(7)} remediations/s  (${(result.ms / 1000).toFixed(2)} s; ${result.done} dry_run, ${result.failed} failed; enqueued beforehand in ${(result.enqueueMs / 1000).toFixed(2)} s)`,
  );
  console.log(`   cpu               : ${describeCpu(usage, result.done)}`);
  printCalls("   AWS calls / job   ", result.aws, result.done);
  printLimits("   limits / job      ", result.watch, result.done);
  printStatements("   Postgres / job    ", result.statements, result.pgStat, result.done);
  printBucketCaps("   bucket caps       ", result.watch, result.done, o.config, o.raised);
  if (!o.withFloor) return;

  const sample = await readDryRunSample(o.prisma, ids[0] ?? "");
  const writes = sample.steps.length * 3 + 3;
  console.log(
    `\n2. floor for the same durability: bare BullMQ Worker, same Redis, concurrency ${o.concurrency}, no limiter, no AWS call; per job the dry-run's ${writes} writes ` +
      `in ${sample.steps.length * 2 + 3} transactions (status running; per step a step-row upsert, then step update + audit insert in one transaction; plan; status dry_run), ` +
      `with the payloads phase 1 wrote; no reads`,
  );
  const floor = async (label: string, run: (ids: string[]) => Promise<number>): Promise<number> => {
    const floorIds = await recordRemediations(o.prisma, fleet.instances, o.remediations, "dry_run", o.accountId);
    // These rows only hold the floor's writes: their outbox rows must never reach the real worker
    // (phase 4's ingest relay would enqueue outbox rows left undispatched).
    await o.prisma.outboxEntry.updateMany({ where: { remediationId: { in: floorIds } }, data: { dispatchedAt: new Date() } });
    const meter = cpuMeter();
    const ms = await run(floorIds);
    const floorRate = (o.remediations / ms) * 1000;
    console.log(`   ${label}: ${floorRate.toFixed(1).padStart(7)} jobs/s  (${(ms / 1000).toFixed(2)} s; ${describeCpu(meter.read(), o.remediations)})`);
    return floorRate;
  };
  const bare = { redisUrl: o.config.REDIS_URL, prefix: o.config.QUEUE_PREFIX, concurrency: o.concurrency };
  const sqlRate = await floor("floor, plain SQL (pg)       ", async (floorIds) => {
    // The worker's Prisma pool is 10 connections: so is this one.
    const pool = new pg.Pool({ connectionString: o.config.DATABASE_URL, max: 10 });
    try {
      return await bareWorkerMs({ ...bare, queueName: "bench-floor-sql", payloads: floorIds.map((remediationId) => ({ remediationId })), processor: sqlWrites(pool, sample) });
    } finally {
      await pool.end();
    }
  });
  const storeRate = await floor("floor, engine store (Prisma)", async (floorIds) => {
    const prisma = createPrisma(o.config.DATABASE_URL);
    try {
      return await bareWorkerMs({ ...bare, queueName: "bench-floor-store", payloads: floorIds.map((remediationId) => ({ remediationId })), processor: storeWrites(prisma, sample) });
    } finally {
      await prisma.$disconnect();
    }
  });
  console.log(`   ratio real / floor (SQL)     : ${(rate / sqlRate).toFixed(2)}  (target >= 0.50)`);
  console.log(`   ratio real / floor (Prisma)  : ${(rate / storeRate).toFixed(2)}`);
}
