// The README's first command: the service end to end on this machine, against local Postgres and
// Redis and a moto server seeded with compromised-looking instances and an ECS cluster (a service's
// Fargate task, a standalone Fargate task and a bridge task on a container instance, all running one
// ECR image). It sends sample findings (good, duplicate, stale, hostile), runs ingest, the worker and
// the API until every message is accounted for and every instance, credentials and ECS remediation
// has run or waits for a person, approves the instance's, the key's and the image's removal through
// the API as an on-call engineer would (leaving the ECS host and the task stops waiting), then prints
// what the audit store and moto hold, checking each message against the outcome it should have led
// to. `--serve` keeps it all running afterwards, for the approval page and the dashboard.
import { parseArgs } from "node:util";
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ECRClient } from "@aws-sdk/client-ecr";
import { ECSClient } from "@aws-sdk/client-ecs";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { frozenPlanSchema } from "@gdr/core/approvals/plan";
import { createRedis } from "@gdr/core/queues/redis";
import { awsTestEnv, deleteByPrefix, seedInstance, seedVpc, startMoto, waitUntil } from "../../test/support/index.js";
import { iamClients, keyStatus, seedUserKey, type SeededUserKey } from "../../test/support/seed/access-key.js";
import { approvePending } from "./approve.js";
import { ecsAfterApprovals, ecsBeforeApprovals } from "./ecs-flow.js";
import { ECS_PLAYBOOKS } from "./ecs-plans.js";
import { seedEcs } from "./ecs-seed.js";
import { playbooksConsumed, queuesIdle } from "./handled.js";
import { createFindingsQueue } from "./queue.js";
import { reportInstances, reportReceipts, reportRemediations } from "./report.js";
import { demoPhases } from "./samples.js";
import { serveUntilSignal } from "./serve.js";
import { createDemoServices, type DemoServices } from "./services.js";

const ACCOUNT = "123456789012"; // moto's default account: the seeded instances live there
const databaseUrl = process.env["DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:5432/guardduty_responder_demo";
const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
const prefix = "gdr-demo";
// strict: an unknown flag is an error, not something silently run without.
const { values: flags } = parseArgs({ options: { serve: { type: "boolean", default: false } }, strict: true });

const moto = await startMoto();
let services: DemoServices | undefined;
// An admin connection that waits for Redis, unlike the fail-fast producer connection ingest uses.
const redis = createRedis(redisUrl, "worker");
try {
  const aws = awsTestEnv(moto.endpoint);
  // The SDK's default credential chain reads the environment: give it moto's fake credentials.
  Object.assign(process.env, aws.env);
  const sqs = new SQSClient(aws);
  const clients = { ec2: new EC2Client(aws), autoscaling: new AutoScalingClient(aws), elbv2: new ElasticLoadBalancingV2Client(aws), ecs: new ECSClient(aws), ecr: new ECRClient(aws) };
  const { queueUrl } = await createFindingsQueue(sqs, "guardduty-findings");
  const vpc = await seedVpc(clients);
  const instances = [
    await seedInstance(clients, { vpc, autoScaling: false, targetGroup: false, tags: { "guardduty-remediation": "exempt" } }),
    await seedInstance(clients, { vpc }),
    await seedInstance(clients, { vpc, autoScaling: false }),
    await seedInstance(clients, { vpc, autoScaling: false, targetGroup: false }),
  ];
  const iam = iamClients(moto.endpoint);
  const leakedKey = await seedUserKey(iam);
  console.log(`moto at ${moto.endpoint}: queue guardduty-findings; 4 instances with 2 network interfaces and 4 groups each`);
  console.log("  (instance 1 tagged exempt, 2 in an Auto Scaling group and a target group, 3 in a target group, 4 in neither)");
  console.log(`  IAM user ${leakedKey.userName} with access key ${leakedKey.accessKeyId}, which a finding says leaked`);
  const ecs = await seedEcs(moto.endpoint, clients, vpc);
  console.log(`  ECS cluster payments: service ${ecs.serviceName}'s Fargate task, a standalone Fargate task payments-reports, and a bridge task`);
  console.log(`  on container instance ${ecs.host.instanceId}, all three running ECR image ${ecs.imageReference} (${ecs.imageDigest.slice(0, 19)}…)`);

  await deleteByPrefix(redis, prefix); // a clean slate for the demo's queues

  const env = { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, SQS_QUEUE_URL: queueUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: process.env["LOG_LEVEL"] ?? "warn" };
  services = await createDemoServices(env, ACCOUNT);
  const { ingest, worker, api, prisma } = services;
  await prisma.$executeRawUnsafe("TRUNCATE ingest_receipts, outbox, remediation_steps, approvals, remediations, findings, audit_events RESTART IDENTITY");
  await services.start();
  const apiUrl = `http://127.0.0.1:${api.port()}`;
  console.log(`API at ${apiUrl} (port ${api.port()}: ${process.env["API_PORT"] ? "API_PORT" : "a free one; set API_PORT to choose"})`);
  console.log(`ingest and worker running (probes: http://127.0.0.1:${ingest.port()}/readyz, http://127.0.0.1:${worker.port()}/readyz)`);
  // Which ECS playbooks this worker has: only their remediations can finish; the others stay queued.
  await waitUntil(async () => (await playbooksConsumed(redis, prefix, ["instance"])).size === 1, { attempts: 300, intervalMs: 100, what: "the worker to consume its queues" });
  const consumed = await playbooksConsumed(redis, prefix, ECS_PLAYBOOKS);
  const missing = ECS_PLAYBOOKS.filter((p) => !consumed.has(p));
  console.log(`ECS playbooks in this worker: ${consumed.size > 0 ? [...consumed].join(", ") : "none"}${missing.length > 0 ? ` (not yet: ${missing.join(", ")}; their remediations stay queued)` : ""}`);
  console.log(
    "NOTE: GuardDuty confirmation is OFF in this demo (WORKER_CONFIRM_FINDINGS=false): moto has no GetFindings, so the worker acts on the sample findings without asking GuardDuty. In production it is on and cannot be turned off.",
  );

  const sent: { message: (typeof phases)[number][number]; id: string }[] = [];
  const phases = demoPhases(ACCOUNT, instances, leakedKey, ecs);
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
  // The worker has the Instance, Credentials and (when consumed) ECS playbooks; EKS arrives in a
  // later release. A remediation awaiting approval has settled too: it waits for a person, the next
  // step here. The bridge task's host remediation is an Instance one, started by the task's.
  const settling = ["instance", "access-key", ...consumed];
  await waitUntil(async () => (await prisma.remediation.count({ where: { playbook: { in: settling }, status: { in: ["queued", "running"] } } })) === 0, {
    attempts: 1_200,
    intervalMs: 100,
    what: `every ${settling.join(", ")} remediation to finish or wait for an approval`,
  });
  await waitUntil(() => queuesIdle(redis, prefix, settling), { attempts: 600, intervalMs: 100, what: "the evidence jobs of those remediations to finish" });
  // What the leaked key's remediation planned, and the key's state, before anyone approved.
  const keyBefore = await leakedKeyBeforeApproval(prisma, iam, leakedKey);
  // The ECS remediations waiting, with what they will do once approved. Of those the demo approves
  // the image's removal (when this worker has that playbook) and leaves the host and the stops waiting.
  const ecsBefore = await ecsBeforeApprovals(prisma, clients, ecs, consumed);
  const approving = ["instance", "access-key", ...(consumed.has("container-image") ? ["container-image"] : [])];
  const approvals = await approvePending(prisma, apiUrl, approving, [ecs.host.instanceId]);

  const mismatches = await reportReceipts(prisma, sent);
  await reportRemediations(prisma);
  const hostLabel = new Map([[ecs.host.instanceId, "the ECS container instance of the bridge task: its isolation waits for a person"]]);
  await reportInstances(clients.ec2, clients.autoscaling, [...instances.map((i) => i.instanceId), ecs.host.instanceId], hostLabel);
  const ecsAfter = await ecsAfterApprovals(clients, ecs, approvals, ecsBefore.imageRemediationId);
  const credentialsProblem = keyBefore.problem ?? (await reportLeakedKey(prisma, iam, leakedKey));
  iam.destroy();

  const failures = [
    ...(mismatches > 0 ? [`${mismatches} message(s) did not end as expected.`] : []),
    ...(approvals.some((a) => a.resourceKey.startsWith("i-")) ? [] : ["No instance remediation waited for an approval; the medium finding on instance 4 should have led to one."]),
    ...approvals.filter((a) => !a.ok).map((a) => `The approved remediation of ${a.resourceKey} did not succeed: ${a.status}.`),
    ...(credentialsProblem ? [credentialsProblem] : []),
    ...ecsBefore.problems,
    ...ecsAfter,
  ];
  console.log(
    failures.length === 0
      ? `\nEvery message is accounted for and the approved remediations ran, as expected: the instance was isolated and the leaked key deactivated only after a person approved. ${ecsSummary(missing)} The EKS playbook arrives in a later release; its remediation stays queued.`
      : `\n${failures.join("\n")}`,
  );
  process.exitCode = failures.length === 0 ? 0 : 1;
  if (flags.serve) await serveUntilSignal(prisma, api.port(), databaseUrl);
} finally {
  // The same stop path with and without --serve, and after an error: otherwise the services'
  // connections would keep the process alive after moto is gone.
  await services?.stop();
  redis.disconnect();
  await moto.stop();
}

/**
 * Before the approval: the leaked key's remediation is identified in IAM, its deactivation planned
 * (one call) and waiting for a person, and the key still Active (approval mode changes nothing
 * before the approval).
 */
async function leakedKeyBeforeApproval(prisma: DemoServices["prisma"], iam: ReturnType<typeof iamClients>, key: SeededUserKey): Promise<{ problem: string | null }> {
  const r = await prisma.remediation.findFirst({ where: { playbook: "access-key", resourceKey: key.accessKeyId } });
  const status = await keyStatus(iam, key.userName, key.accessKeyId);
  console.log(`\ncredentials, before the approval (IAM in moto):`);
  if (!r) return { problem: `No remediation for the leaked key ${key.accessKeyId}.` };
  const plan = frozenPlanSchema.safeParse(r.plan);
  const planned = plan.success ? plan.data.steps.flatMap((s) => s.calls.map((c) => `${s.name}: ${c.operation} ${JSON.stringify(c.params)}`)) : [];
  console.log(`  ${key.accessKeyId} of ${key.userName}: remediation ${r.status}, the key ${status ?? "gone"}`);
  for (const line of planned) console.log(`  planned ${line}`);
  if (r.status !== "awaiting_approval" || planned.length !== 1) return { problem: `The leaked key's remediation should wait for an approval with one planned call; it is ${r.status} with ${planned.length}.` };
  return { problem: status === "Active" ? null : `The leaked key is ${status ?? "gone"} before anyone approved its deactivation.` };
}

/** After the approval: the key is Inactive in IAM (never deleted) and the remediation succeeded. */
async function reportLeakedKey(prisma: DemoServices["prisma"], iam: ReturnType<typeof iamClients>, key: SeededUserKey): Promise<string | null> {
  const r = await prisma.remediation.findFirst({ where: { playbook: "access-key", resourceKey: key.accessKeyId }, include: { steps: { orderBy: { order: "asc" } } } });
  const status = await keyStatus(iam, key.userName, key.accessKeyId);
  console.log(`\ncredentials, after the approval (IAM in moto):`);
  if (!r) return `No remediation for the leaked key ${key.accessKeyId}.`;
  console.log(`  ${key.accessKeyId} of ${key.userName}: remediation ${r.status}; steps ${r.steps.map((s) => `${s.name}=${s.status}`).join(", ")}`);
  console.log(`  the key is ${status ?? "gone"} in IAM`);
  if (r.status !== "succeeded") return `The leaked key's approved remediation did not succeed: ${r.status}.`;
  return status === "Inactive" ? null : `The leaked key is ${status ?? "gone"} after its deactivation was approved and ran.`;
}

/** The ECS part of the closing line, honest about a playbook this worker does not have yet. */
function ecsSummary(missing: readonly string[]): string {
  const tasks = missing.includes("ecs-task")
    ? "The ECS task playbook is not in this worker yet: the three task remediations stay queued."
    : "The Fargate tasks were isolated at once, and the bridge task's host waits for a person to approve its isolation.";
  const image = missing.includes("container-image")
    ? "The image's remediation stays queued (no container-image playbook in this worker yet)."
    : "The image's removal (its tasks stopped, its task definitions deregistered, the image deleted from ECR) ran only after a person approved it.";
  return `${tasks} ${image}`;
}
