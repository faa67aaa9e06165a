// Phase 4 of bench/worker.ts: ingest and the worker together against moto, auto mode under the
// default policy. Each finding targets an instance of its own that no remediation touched yet
// (an isolated instance would skip isolation). First a few findings one at a time on an idle
// system (the latency without queueing), then a paced stream, then a burst.
import { SQSClient } from "@aws-sdk/client-sqs";
import type { PrismaClient } from "@gdr/core/db/client";
import type { Logger } from "@gdr/core/log";
import { createMetricsRegistry } from "@gdr/core/metrics";
import { loadIngestConfig } from "@gdr/ingest/config";
import { createIngestService } from "@gdr/ingest/service";
import type { WorkerConfig } from "@gdr/worker/config";
import type { BucketSpecs, TokenBucket } from "@gdr/worker/engine/limits/index";
import { createWorkerService } from "@gdr/worker/service";
import { createFindingsQueue } from "../../scripts/demo/queue.js";
import type { AwsTestEnv, SeedClients } from "../../test/support/index.js";
import { findingMessage, seedFleet } from "./fleet.js";
import { awsCallTally, cpuMeter, describeCpu, Tally, watchLimits } from "./instrument.js";
import { p, sendBurst, sendPaced, waitFinished, waitIsolated, type LatencyReport, type Sent } from "./latency.js";
import { printBucketCaps, printCalls, printLimits } from "./report.js";

export interface LatencyPhaseOptions {
  aws: AwsTestEnv;
  clients: SeedClients;
  prisma: PrismaClient;
  env: NodeJS.ProcessEnv;
  config: Readonly<WorkerConfig>;
  logger: Logger;
  accountId: string;
  solo: number;
  paced: number;
  rate: number;
  burst: number;
  vpcs: number;
  targetGroups: number;
  fixedBuckets: TokenBucket | undefined;
  raised: BucketSpecs | undefined;
  /** Print the phase's heading (the first of its parts). */
  title: boolean;
}

function merge(reports: readonly LatencyReport[]): LatencyReport {
  const out: LatencyReport = { total: [], ingest: [], enqueue: [], queueWait: [], beforeIsolate: [], isolate: [], worker: [] };
  for (const r of reports) for (const key of Object.keys(out) as (keyof LatencyReport)[]) out[key].push(...r[key]);
  return out;
}

function show(label: string, r: LatencyReport, note: string): void {
  console.log(`   ${label}: p50 ${p(r.total, 50)}, p99 ${p(r.total, 99)}, max ${p(r.total, 100)}${note}`);
  console.log(
    `      p50 (p99): ingest send→created_at ${p(r.ingest, 50)} (${p(r.ingest, 99)}) | worker created_at→isolated ${p(r.worker, 50)} (${p(r.worker, 99)}) = ` +
      `record+enqueue ${p(r.enqueue, 50)} (${p(r.enqueue, 99)}), queue wait ${p(r.queueWait, 50)} (${p(r.queueWait, 99)}), ` +
      `identify+leave-ASG ${p(r.beforeIsolate, 50)} (${p(r.beforeIsolate, 99)}), isolate step ${p(r.isolate, 50)} (${p(r.isolate, 99)})`,
  );
}

export async function latencyPhase(o: LatencyPhaseOptions): Promise<void> {
  const count = o.solo + o.paced + o.burst;
  const fleet = await seedFleet(o.clients, { instances: count, vpcs: o.vpcs, targetGroupsPerVpc: o.targetGroups, label: "lat" });
  if (o.title) console.log("\n4. SQS send → every interface isolated (isolate step succeeded), ingest + worker in auto mode (default policy, severity 8)");
  console.log(
    `   moto              : ${count} fresh instances (2 interfaces each, own Auto Scaling group) in ${o.vpcs} VPC(s) with ${fleet.targetGroups} shared target groups, ` +
      `seeded in ${(fleet.seedMs / 1000).toFixed(1)} s (${(fleet.seedMs / Math.max(1, count)).toFixed(0)} ms per instance, so one instance per finding)`,
  );
  const sqs = new SQSClient(o.aws);
  const { queueUrl } = await createFindingsQueue(sqs, "bench-worker-findings");
  const ingestConfig = loadIngestConfig({ ...o.env, SQS_QUEUE_URL: queueUrl, INGEST_HTTP_PORT: "0" });
  console.log(
    `   ingest            : ${ingestConfig.INGEST_POLLERS} pollers, INGEST_WAIT_TIME_SECONDS ${ingestConfig.INGEST_WAIT_TIME_SECONDS}, batch ${ingestConfig.INGEST_BATCH_SIZE}; worker settings as above`,
  );
  const ingest = createIngestService(ingestConfig, { logger: o.logger, registry: createMetricsRegistry({ service: "bench-ingest" }) });
  const calls = new Tally();
  const worker = createWorkerService(o.config, { logger: o.logger, registry: createMetricsRegistry({ service: "bench-worker" }), awsMiddleware: awsCallTally(calls) });
  const watch = watchLimits(worker, o.fixedBuckets);
  await ingest.start();
  await worker.start();
  try {
    const messages = fleet.instances.map((instance) => findingMessage(instance, o.accountId));
    let next = 0;
    const take = (n: number) => messages.slice(next, (next += n));

    if (o.solo > 0) {
      const reports: LatencyReport[] = [];
      for (const m of take(o.solo)) {
        const sent = await sendBurst(sqs, queueUrl, [m]);
        reports.push(await waitIsolated(o.prisma, sent, 60_000));
        await waitFinished(o.prisma, sent, 60_000);
      }
      show(`one at a time, ${o.solo}   `, merge(reports), "  (idle system: no queueing)");
    }

    const run = async (label: string, send: () => Promise<Sent[]>, note: string): Promise<void> => {
      const cpu = cpuMeter();
      const sent = await send();
      const report = await waitIsolated(o.prisma, sent, 600_000);
      const usage = cpu.read();
      show(label, report, note);
      console.log(`      ${sent.length} instances isolated in ${(usage.wallMs / 1000).toFixed(1)} s from the first send: ${((sent.length / usage.wallMs) * 1000).toFixed(2)} isolations/s`);
      const drainMs = await waitFinished(o.prisma, sent, 600_000);
      console.log(`      every remediation finished ${(drainMs / 1000).toFixed(1)} s after the last isolation; until then ${describeCpu(usage, sent.length)}`);
    };
    if (o.paced > 0) {
      const paced = take(o.paced);
      await run(`paced, ${o.paced} at ${o.rate}/s`, () => sendPaced(sqs, queueUrl, paced, o.rate), "  (target p99 <= 0.5 s)");
    }
    if (o.burst > 0) {
      const burst = take(o.burst);
      await run(`burst of ${o.burst}       `, () => sendBurst(sqs, queueUrl, burst), "");
    }
    printCalls("   AWS calls / remediation", calls, count);
    printLimits("   limits / remediation   ", watch, count);
    printBucketCaps("   bucket caps            ", watch, count, o.config, o.raised);
  } finally {
    // Ingest finishes its long polls (up to INGEST_WAIT_TIME_SECONDS) before it stops.
    await Promise.all([worker.stop(), ingest.stop()]);
    sqs.destroy();
  }
}
