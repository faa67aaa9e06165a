// `npm run bench:ingest [-- --findings N --pollers P]`: ingest throughput against moto, next to the
// floor any SQS consumer has on the same queue (receive + delete, nothing else), and their ratio.
// Both phases start with the queue already full, so sending is not measured.
import { parseArgs } from "node:util";
import { SQSClient } from "@aws-sdk/client-sqs";
import { eventBridgeEvent, instanceFinding } from "@gdr/samples/findings";
import { createLogger } from "@gdr/core/log";
import { createMetricsRegistry } from "@gdr/core/metrics";
import { createRedis } from "@gdr/core/queues/redis";
import { loadIngestConfig } from "@gdr/ingest/config";
import { createIngestService } from "@gdr/ingest/service";
import { createFindingsQueue } from "../scripts/demo/queue.js";
import { awsTestEnv, deleteByPrefix, startMoto, waitUntil } from "../test/support/index.js";
import { bareReceiveDelete, fillQueue } from "./sqs-load.js";

const { values } = parseArgs({
  options: { findings: { type: "string", default: "5000" }, pollers: { type: "string", default: "4" } },
});
const total = Number(values.findings);
const pollers = Number(values.pollers);
const databaseUrl = process.env["DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:5432/guardduty_responder_bench";
const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
const prefix = "gdr-bench";

const bodies = (): string[] =>
  Array.from({ length: total }, () => JSON.stringify(eventBridgeEvent(instanceFinding({ accountId: "123456789012", eniCount: 2 }))));

const moto = await startMoto();
try {
  const aws = awsTestEnv(moto.endpoint);
  Object.assign(process.env, aws.env);
  const sqs = new SQSClient(aws);
  const { queueUrl } = await createFindingsQueue(sqs, "bench-findings");
  const redis = createRedis(redisUrl, "worker");
  await deleteByPrefix(redis, prefix);

  console.log(`ingest benchmark: ${total} findings, ${pollers} pollers, moto at ${moto.endpoint}`);
  await fillQueue(sqs, queueUrl, bodies());
  const bareMs = await bareReceiveDelete(sqs, queueUrl, total, pollers);
  const bareRate = (total / bareMs) * 1000;
  console.log(`bare receive+delete : ${bareRate.toFixed(0).padStart(6)} messages/s  (${(bareMs / 1000).toFixed(2)} s)`);

  await fillQueue(sqs, queueUrl, bodies());
  const config = loadIngestConfig({
    ...process.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    SQS_QUEUE_URL: queueUrl,
    QUEUE_PREFIX: prefix,
    INGEST_POLLERS: String(pollers),
    INGEST_WAIT_TIME_SECONDS: "1",
    INGEST_HTTP_PORT: "0",
    LOG_LEVEL: "error",
  });
  const registry = createMetricsRegistry({ service: "bench" });
  const service = createIngestService(config, { logger: createLogger({ level: "error", name: "bench" }), registry });
  await service.prisma.$executeRawUnsafe("TRUNCATE ingest_receipts, outbox, remediation_steps, approvals, remediations, findings RESTART IDENTITY");
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const started = performance.now();
  await service.start();
  await waitUntil(
    async () => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      // Done means recorded and enqueued: receipts commit before their jobs are added.
      const [receipts, undispatched] = await Promise.all([
        service.prisma.ingestReceipt.count(),
        service.prisma.outboxEntry.count({ where: { dispatchedAt: null } }),
      ]);
      return receipts >= total && undispatched === 0;
    },
    { attempts: 20 * 60 * 10, intervalMs: 50, what: `${total} receipts and their jobs` },
  );
  const fullMs = performance.now() - started;
  const fullRate = (total / fullMs) * 1000;
  const [accepted, remediations, jobs] = await Promise.all([
    service.prisma.ingestReceipt.count({ where: { outcome: "accepted" } }),
    service.prisma.remediation.count(),
    service.prisma.outboxEntry.count({ where: { dispatchedAt: { not: null } } }),
  ]);
  await service.stop();
  redis.disconnect();

  console.log(`full ingest path    : ${fullRate.toFixed(0).padStart(6)} findings/s  (${(fullMs / 1000).toFixed(2)} s; ${accepted} accepted, ${remediations} remediations, ${jobs} jobs enqueued)`);
  console.log(`ratio full / bare   : ${(fullRate / bareRate).toFixed(2)}  (target >= 0.80)`);
  console.log(`memory              : rss ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, ${(rssPeak / 2 ** 20).toFixed(0)} MiB peak`);
  // Where a batch's time goes: moto's SQS dominates here, so the ingest's own stages are shown too.
  const stages = (await registry.getSingleMetric("gdr_ingest_stage_duration_seconds")?.get())?.values ?? [];
  const mean = (stageName: string): string => {
    const pick = (suffix: string) =>
      stages.find((v) => "metricName" in v && v.metricName === `gdr_ingest_stage_duration_seconds_${suffix}` && v.labels["stage"] === stageName)?.value ?? 0;
    const n = pick("count");
    return n > 0 ? `${((pick("sum") / n) * 1000).toFixed(1)} ms` : "n/a";
  };
  console.log(`per batch of 10     : record (Postgres) ${mean("record")}, enqueue (BullMQ) ${mean("enqueue")}, delete (SQS) ${mean("delete")}`);
} finally {
  await moto.stop();
}
