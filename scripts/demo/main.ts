// The README's first command: the service end to end on this machine, against local Postgres and
// Redis and a moto server seeded with compromised-looking instances. It sends sample findings
// (good, duplicate, stale, hostile), runs ingest and the worker until every message is accounted
// for and every instance remediation has run, then prints what the audit store and moto hold,
// checking each message against the outcome it should have led to.
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createLogger } from "@gdr/core/log";
import { createMetricsRegistry } from "@gdr/core/metrics";
import { createRedis } from "@gdr/core/queues/redis";
import { loadIngestConfig } from "@gdr/ingest/config";
import { createIngestService } from "@gdr/ingest/service";
import { loadWorkerConfig } from "@gdr/worker/config";
import { createWorkerService } from "@gdr/worker/service";
import { awsTestEnv, deleteByPrefix, seedInstance, seedVpc, startMoto, waitUntil } from "../../test/support/index.js";
import { createFindingsQueue } from "./queue.js";
import { reportInstances, reportReceipts, reportRemediations } from "./report.js";
import { demoPhases } from "./samples.js";

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
  const clients = { ec2: new EC2Client(aws), autoscaling: new AutoScalingClient(aws), elbv2: new ElasticLoadBalancingV2Client(aws) };
  const { queueUrl } = await createFindingsQueue(sqs, "guardduty-findings");
  const vpc = await seedVpc(clients);
  const instances = [
    await seedInstance(clients, { vpc, autoScaling: false, targetGroup: false, tags: { "guardduty-remediation": "exempt" } }),
    await seedInstance(clients, { vpc }),
    await seedInstance(clients, { vpc, autoScaling: false }),
  ];
  console.log(`moto at ${moto.endpoint}: queue guardduty-findings; 3 instances with 2 network interfaces and 4 groups each`);
  console.log("  (the first tagged exempt, the second in an Auto Scaling group and a target group, the third in a target group)");

  // An admin connection that waits for Redis, unlike the fail-fast producer connection ingest uses.
  const redis = createRedis(redisUrl, "worker");
  await deleteByPrefix(redis, prefix); // a clean slate for the demo's queues

  const env = { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, SQS_QUEUE_URL: queueUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: process.env["LOG_LEVEL"] ?? "warn" };
  const ingestConfig = loadIngestConfig({ ...env, INGEST_HTTP_PORT: "0" });
  const workerConfig = loadWorkerConfig({ ...env, WORKER_HTTP_PORT: "0", WORKER_ACCOUNT_ID: ACCOUNT });
  const logger = createLogger({ level: ingestConfig.LOG_LEVEL, name: "demo" });
  const ingest = createIngestService(ingestConfig, { logger, registry: createMetricsRegistry({ service: "ingest" }) });
  const worker = createWorkerService(workerConfig, { logger, registry: createMetricsRegistry({ service: "worker" }) });
  const prisma = ingest.prisma;
  await prisma.$executeRawUnsafe("TRUNCATE ingest_receipts, outbox, remediation_steps, approvals, remediations, findings, audit_events RESTART IDENTITY");
  await ingest.start();
  await worker.start();
  console.log(`ingest and worker running (probes: http://127.0.0.1:${ingest.port()}/readyz, http://127.0.0.1:${worker.port()}/readyz)\n`);

  const sent: { message: (typeof phases)[number][number]; id: string }[] = [];
  const phases = demoPhases(ACCOUNT, instances);
  for (const [index, phase] of phases.entries()) {
    const ids: string[] = [];
    for (const message of phase) {
      const out = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message.body }));
      if (!out.MessageId) throw new Error("SendMessage returned no MessageId");
      ids.push(out.MessageId);
      sent.push({ message, id: out.MessageId });
    }
    // Each phase is fully recorded before the next is sent, so version order is the one intended.
    await waitUntil(async () => (await prisma.ingestReceipt.count({ where: { sqsMessageId: { in: ids } } })) === ids.length, {
      attempts: 600,
      intervalMs: 100,
      what: `phase ${index + 1}: all ${ids.length} messages recorded`,
    });
  }
  // The worker has the Instance playbook; the other playbooks arrive in later releases.
  await waitUntil(async () => (await prisma.remediation.count({ where: { playbook: "instance", status: { in: ["queued", "running"] } } })) === 0, {
    attempts: 1_200,
    intervalMs: 100,
    what: "every instance remediation to finish",
  });

  const mismatches = await reportReceipts(prisma, sent);
  await reportRemediations(prisma);
  await reportInstances(clients.ec2, clients.autoscaling, instances.map((i) => i.instanceId));

  await worker.stop();
  await ingest.stop();
  redis.disconnect();
  console.log(
    mismatches === 0
      ? "\nEvery message is accounted for, as expected. Playbooks for ECS, EKS and access keys arrive in later releases; their remediations stay queued."
      : `\n${mismatches} message(s) did not end as expected.`,
  );
  process.exitCode = mismatches === 0 ? 0 : 1;
} finally {
  await moto.stop();
}
