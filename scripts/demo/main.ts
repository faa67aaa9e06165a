// The README's first command: the service end to end on this machine, against local Postgres and
// Redis and a moto server seeded with compromised-looking instances. It sends sample findings
// (good, duplicate, stale, hostile), runs ingest until every message is accounted for, prints
// what the audit store says, and checks that against what each message should have led to.
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { EC2Client } from "@aws-sdk/client-ec2";
import { createLogger } from "@gdr/core/log";
import { createMetricsRegistry } from "@gdr/core/metrics";
import { PLAYBOOKS } from "@gdr/core/queues/playbooks";
import { createQueues, closeQueues } from "@gdr/core/queues/queues";
import { createRedis } from "@gdr/core/queues/redis";
import { loadIngestConfig } from "@gdr/ingest/config";
import { createIngestService } from "@gdr/ingest/service";
import { awsTestEnv, deleteByPrefix, startMoto, waitUntil } from "../../test/support/index.js";
import { createFindingsQueue } from "./queue.js";
import { demoPhases, type DemoMessage } from "./samples.js";
import { seedInstances } from "./seed-ec2.js";

const ACCOUNT = "123456789012"; // moto's default account: the seeded instances live there
const databaseUrl = process.env["DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:5432/guardduty_responder_demo";
const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
const prefix = "gdr-demo";

const moto = await startMoto();
try {
  const aws = awsTestEnv(moto.endpoint);
  // The SDK's default credential chain reads the environment: give it moto's fake credentials.
  Object.assign(process.env, aws.env);
  const sqs = new SQSClient(aws);
  const ec2 = new EC2Client(aws);
  const { queueUrl } = await createFindingsQueue(sqs, "guardduty-findings");
  const instances = await seedInstances(ec2, { count: 3, exempt: 1 });
  console.log(`moto at ${moto.endpoint}: queue guardduty-findings, ${instances.length} instances with 2 ENIs each (1 tagged exempt)`);

  // An admin connection that waits for Redis, unlike the fail-fast producer connection ingest uses.
  const redis = createRedis(redisUrl, "worker");
  await deleteByPrefix(redis, prefix); // a clean slate for the demo's queues

  const config = loadIngestConfig({
    ...process.env,
    ...aws.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    SQS_QUEUE_URL: queueUrl,
    QUEUE_PREFIX: prefix,
    INGEST_HTTP_PORT: "0",
    LOG_LEVEL: process.env["LOG_LEVEL"] ?? "warn",
  });
  const logger = createLogger({ level: config.LOG_LEVEL, name: "demo" });
  const service = createIngestService(config, { logger, registry: createMetricsRegistry({ service: "demo" }) });
  await service.prisma.$executeRawUnsafe(
    "TRUNCATE ingest_receipts, outbox, remediation_steps, approvals, remediations, findings, audit_events RESTART IDENTITY",
  ).catch(async () => {
    // audit_events refuses DELETE but not TRUNCATE; should that ever change, start from empty tables another way.
    await service.prisma.$executeRawUnsafe("TRUNCATE ingest_receipts, outbox, remediation_steps, approvals, remediations, findings RESTART IDENTITY");
  });
  await service.start();
  console.log(`ingest running (probes on http://127.0.0.1:${service.port()}/readyz and /metrics)\n`);

  const sent: { message: DemoMessage; id: string }[] = [];
  for (const [index, phase] of demoPhases(ACCOUNT, instances).entries()) {
    const ids: string[] = [];
    for (const message of phase) {
      const out = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message.body }));
      if (!out.MessageId) throw new Error("SendMessage returned no MessageId");
      ids.push(out.MessageId);
      sent.push({ message, id: out.MessageId });
    }
    // Each phase is fully recorded before the next is sent, so version order is the one intended.
    await waitUntil(
      async () => (await service.prisma.ingestReceipt.count({ where: { sqsMessageId: { in: ids } } })) === ids.length,
      { attempts: 600, intervalMs: 100, what: `phase ${index + 1}: all ${ids.length} messages recorded` },
    );
  }

  const receipts = await service.prisma.ingestReceipt.findMany({ where: { sqsMessageId: { in: sent.map((s) => s.id) } } });
  const byId = new Map(receipts.map((r) => [r.sqsMessageId, r]));
  let mismatches = 0;
  console.log("message                                            outcome    reason");
  for (const { message, id } of sent) {
    const r = byId.get(id);
    const got = r ? `${r.outcome.padEnd(10)} ${r.reason}` : "(no receipt)";
    const ok = r?.outcome === message.expect.outcome && r.reason === message.expect.reason;
    if (!ok) mismatches += 1;
    console.log(`${ok ? " " : "!"} ${message.label.padEnd(49)} ${got}${ok ? "" : `   (expected ${message.expect.outcome} ${message.expect.reason})`}`);
  }

  const totals = await service.prisma.ingestReceipt.groupBy({ by: ["outcome"], _count: true, orderBy: { outcome: "asc" } });
  console.log(`\nreceipts: ${totals.map((t) => `${t.outcome} ${t._count}`).join(", ")}  (messages sent: ${sent.length})`);
  const remediations = await service.prisma.remediation.findMany({ orderBy: { createdAt: "asc" } });
  console.log(`remediations queued: ${remediations.length}`);
  for (const r of remediations) console.log(`  ${r.playbook.padEnd(11)} ${r.mode.padEnd(8)} ${r.status.padEnd(7)} ${r.resourceKey}`);

  const queues = createQueues(redis, prefix);
  const counts = await Promise.all(PLAYBOOKS.map(async (name) => [name, await queues.get(name)?.getJobCounts("waiting", "delayed", "active")] as const));
  console.log(`BullMQ jobs waiting: ${counts.map(([name, c]) => `${name} ${c?.["waiting"] ?? 0}`).join(", ")}`);
  const leftover = await service.prisma.outboxEntry.count({ where: { dispatchedAt: null } });
  console.log(`outbox rows not yet enqueued: ${leftover}`);
  await closeQueues(queues);

  await service.stop();
  redis.disconnect();
  console.log(
    mismatches === 0
      ? "\nEvery message is accounted for, as expected. (The worker that contains them comes in a later release.)"
      : `\n${mismatches} message(s) did not end as expected.`,
  );
  process.exitCode = mismatches === 0 ? 0 : 1;
} finally {
  await moto.stop();
}
