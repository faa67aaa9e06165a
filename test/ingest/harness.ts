// What every ingest integration test needs, over the test kit (test/support/world): its own
// world of real services (a database, a Redis prefix, a moto server holding the findings queue and
// its dead-letter queue), the ingest service in this process or the environment for a real ingest
// process, and plain readers of the state the tests assert on (rows read with node-postgres, jobs
// read with BullMQ, queue depth read from moto), so that no assertion goes through the code under
// test. What is ingest's own here: the expectations (the job payload, the default policy's verdict).
import { createHash } from "node:crypto";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { RemediationJob } from "@gdr/core/queues/catalog";
import type { PlaybookName } from "@gdr/core/queues/playbooks";
import type { Job, Queue } from "bullmq";
import { eventBridgeEvent, type JsonObject } from "@gdr/samples/findings";
import { auditRows, waitUntil, type AwsProxy, type RemediationRow, type TestDatabase } from "../support/index.js";
import { receiptRows, type ReceiptRow } from "../support/rows.js";
import {
  createWorld as createKitWorld,
  jobCount,
  jobsIn,
  queueOf as queueIn,
  sendBodies as sendBodiesTo,
  sendBody as sendBodyTo,
  sendWhileReceivesHeld as sendToHeld,
  waitForEmptyQueue as waitForEmptySqsQueue,
  type PlaybookQueues,
  type World as KitWorld,
} from "../support/world/index.js";

export { at, fixtureResourceKey, metricValue, stringAt } from "../support/index.js";
export {
  findingRows,
  outboxRows,
  receiptCount,
  receiptRows,
  remediationRows,
  type FindingRow,
  type OutboxRow,
  type ReceiptRow,
  type RemediationRow,
} from "../support/rows.js";
export { queueDepth, recordingNotifier, startIngest, type QueueDepth, type RecordingNotifier, type RunningIngest } from "../support/world/index.js";

/** Short, so that a message whose batch failed comes back within seconds. */
export const VISIBILITY_TIMEOUT_SECONDS = 5;

export interface World extends KitWorld {
  /** A client straight to moto (world.aws.sqs), for sending and inspecting messages. */
  sqs: SQSClient;
  queueUrl: string;
  dlqUrl: string;
  /** BullMQ queues under this file's prefix, one per playbook, for reading jobs. */
  queues: PlaybookQueues;
}

export async function createWorld(): Promise<World> {
  const kit = await createKitWorld();
  const { queueUrl, dlqUrl } = await kit.findingsQueue("guardduty-findings", VISIBILITY_TIMEOUT_SECONDS);
  return Object.assign(kit, { sqs: kit.aws.sqs, queueUrl, dlqUrl, queues: kit.playbookQueues() });
}

/**
 * The environment an ingest process needs to work in `world`. `endpoint` is where its SQS client
 * goes (moto, or an AWS proxy in front of it).
 */
export function ingestEnv(world: World, overrides: Record<string, string> = {}, endpoint = world.moto.endpoint): Record<string, string> {
  return world.ingestEnv({ queueUrl: world.queueUrl, endpoint, visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS }, overrides);
}

/** Sends each body as its own message, ten per SendMessageBatch; returns the message ids in order. */
export function sendBodies(world: World, bodies: readonly string[]): Promise<string[]> {
  return sendBodiesTo(world.sqs, world.queueUrl, bodies);
}

/** Sends the bodies while the receives of all `pollers` are parked at `proxy` (see the kit's sqs.ts). */
export function sendWhileReceivesHeld(world: World, proxy: AwsProxy, pollers: number, bodies: readonly string[]): Promise<string[]> {
  return sendToHeld(world.sqs, world.queueUrl, proxy, pollers, bodies);
}

export function sendBody(world: World, body: string): Promise<string> {
  return sendBodyTo(world.sqs, world.queueUrl, body);
}

/** Waits until the findings queue holds nothing, visible or in flight (bounded). */
export async function waitForEmptyQueue(world: World, what: string, attempts = 150): Promise<void> {
  await waitForEmptySqsQueue(world.sqs, world.queueUrl, { what, attempts, intervalMs: 200 });
}

/**
 * Sends one finding (as an EventBridge event) and waits until ingest has recorded it and deleted
 * its message; answers its receipt.
 */
export async function deliver(world: World, detail: JsonObject): Promise<ReceiptRow> {
  const messageId = await sendBody(world, JSON.stringify(eventBridgeEvent(detail)));
  let receipt: ReceiptRow | undefined;
  await waitUntil(
    async () => {
      receipt = (await receiptRows(world.db)).find((r) => r.sqs_message_id === messageId);
      return receipt !== undefined;
    },
    { attempts: 100, what: `message ${messageId} to be recorded` },
  );
  await waitForEmptyQueue(world, `message ${messageId} deleted`);
  if (!receipt) throw new Error("unreachable");
  return receipt;
}

export const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");

export function auditActions(db: TestDatabase): Promise<{ actor: string; action: string; finding_id: string | null; remediation_id: string | null }[]> {
  return auditRows(db);
}

export function queueOf(world: World, playbook: string): Queue<RemediationJob> {
  return queueIn(world.queues, playbook);
}

/** Every job in every playbook queue under this file's prefix, whatever its state. */
export function allJobs(world: World): Promise<Job<RemediationJob>[]> {
  return jobsIn(world.queues.values());
}

/** The number of jobs BullMQ counts in every state of every playbook queue. */
export function jobTotal(world: World): Promise<number> {
  return jobCount(world.queues.values());
}

/** What the outbox and the BullMQ job must carry for a remediation row. */
export function expectedPayload(r: RemediationRow): RemediationJob {
  return {
    remediationId: r.id,
    findingId: r.finding_id,
    playbook: r.playbook as PlaybookName,
    mode: r.mode as RemediationJob["mode"],
    accountId: r.account_id,
    region: r.region,
    resourceKey: r.resource_key,
    action: "contain",
  };
}

const DEFAULT_PLAYBOOK: Record<string, PlaybookName> = {
  Instance: "instance",
  EKSCluster: "eks-pod",
  ECSCluster: "ecs-task",
  Container: "container",
  AccessKey: "access-key",
};

/**
 * What policy/default.yaml decides, written out independently of the policy engine: high and
 * critical workloads auto, access keys from medium up approval, other medium approval, low notify.
 */
export function defaultPolicyDecision(resourceType: string, severity: number): { playbook: PlaybookName; mode: string; rule: string } {
  const playbook = DEFAULT_PLAYBOOK[resourceType];
  if (!playbook) throw new Error(`no default playbook for ${resourceType}`);
  if (severity >= 7 && resourceType !== "AccessKey") return { playbook, mode: "auto", rule: "workload-high-critical" };
  if (severity >= 4 && resourceType === "AccessKey") return { playbook, mode: "approval", rule: "access-key" };
  if (severity >= 4) return { playbook, mode: "approval", rule: "medium" };
  return { playbook, mode: "notify", rule: "low" };
}
