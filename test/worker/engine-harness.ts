// What every engine test needs, over the test kit (test/support/world): a world of real services
// (a database, a Redis prefix, a moto server) and, per test, a "lane" of its own: an SQS queue, a
// QUEUE_PREFIX (so queues, token buckets, the pause switch and the isolation cap never leak between
// tests), the ingest service in this process and, unless the test runs real worker processes, the
// worker service in this process too. Readers of rows (test/support/rows.ts) and of AWS state
// (test/support/seed/instance.ts) go around the code under test.
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { AwsClients } from "@gdr/core/aws/clients";
import { eventBridgeEvent, type JsonObject } from "@gdr/samples/findings";
import type { RemediationJob } from "@gdr/core/queues/catalog";
import { closeQueues, createQueues, queueFor, type RemediationQueues } from "@gdr/core/queues/queues";
import type { IngestService } from "@gdr/ingest/service";
import type { Job, Queue } from "bullmq";
import { Redis } from "ioredis";
import {
  auditRows,
  outboxRows,
  receiptRows,
  seedInstance,
  type AuditRow,
  type OutboxRow,
  type ReceiptRow,
  type SeededInstance,
  type SeedInstanceOptions,
  type TestDatabase,
} from "../support/index.js";
import { createWorld, jobsIn, sendBody, startIngest, startWorkerInProcess, waitForEmptyQueue as waitForEmptySqsQueue, type RunningWorker, type World } from "../support/world/index.js";

export { MOTO_ACCOUNT_ID as ACCOUNT, CONTAINMENT_STEPS, createGate, findingFor, findingIdOf, holdAfter, holdNth, metricValue, type Gate, type Held } from "../support/index.js";
export {
  approvalRows as approvalsOf,
  remediationForFinding,
  remediationRow as remediation,
  remediationRows as remediationsOf,
  stepMap,
  stepRows as stepsOf,
  waitForReceipts,
  waitForStatus,
  type AuditRow,
  type RemediationRow,
  type StepRow,
} from "../support/rows.js";
export { createLogSink, spawnWorker, startWorkerInProcess, type LogLine, type LogSink, type RunningWorker, type WorkerProcess } from "../support/world/index.js";

// ---------------------------------------------------------------------------------------------
// The world: one per test file.

export interface EngineWorld extends World {
  /** A client straight to moto's SQS (world.aws.sqs). */
  sqs: SQSClient;
  /** Lanes still running; close() stops them. */
  lanes: Set<Lane>;
  /** Numbers lanes (prefixes, queue names) within the file. */
  nextLane(): number;
}

export async function createEngineWorld(): Promise<EngineWorld> {
  // The worker service builds its SDK clients with the default credential chain (as in
  // production): moto's fake keys go into this process's environment (vitest forks per file).
  const world = await createWorld({ credentialsInEnv: true });
  let lanesMade = 0;
  return Object.assign(world, { sqs: world.aws.sqs, lanes: new Set<Lane>(), nextLane: () => ++lanesMade });
}

// ---------------------------------------------------------------------------------------------
// Lanes: one per test.

export interface LaneOptions {
  /** Worker environment overrides; `false` starts no worker in this process (children instead). */
  worker?: Record<string, string> | false;
  /** Fault injection on the in-process worker's AWS clients. */
  awsMiddleware?: (clients: AwsClients) => void;
  /** A policy (YAML) for ingest; policy/default.yaml when absent. */
  policy?: string;
}

export interface Lane {
  prefix: string;
  queueUrl: string;
  /** Producer-side queues under the lane's prefix (approvals enqueue through them). */
  queues: RemediationQueues;
  ingest: IngestService;
  /** The in-process worker, when the lane has one. */
  worker: RunningWorker | null;
  /** Sends one finding (its EventBridge event) to the lane's SQS queue; returns the message id. */
  send(detail: JsonObject): Promise<string>;
  sendBody(body: string): Promise<string>;
  /** The environment of a worker for this lane, its AWS calls going to `endpoint`. */
  workerEnv(endpoint: string, overrides?: Record<string, string>): Record<string, string>;
  /** Stops the in-process worker (if any) and starts another with these overrides. */
  restartWorker(overrides?: Record<string, string>, awsMiddleware?: (clients: AwsClients) => void): Promise<RunningWorker>;
  /** Every BullMQ job of the Instance queue, whatever its state. */
  jobs(): Promise<Job<RemediationJob>[]>;
  stop(): Promise<void>;
}

const LANE_VISIBILITY_SECONDS = 30;

export async function startLane(world: EngineWorld, options: LaneOptions = {}): Promise<Lane> {
  const n = world.nextLane();
  const prefix = `${world.redis.prefix}-${n}`;
  const { queueUrl } = await world.findingsQueue(`findings-${n}`, LANE_VISIBILITY_SECONDS);
  const ingestEnv = world.ingestEnv(
    { queueUrl, prefix, visibilityTimeoutSeconds: LANE_VISIBILITY_SECONDS },
    {
      INGEST_POLLERS: "1",
      // Each lane's relay would also pick up other lanes' pending rows (one database per file):
      // keep it out of the way; every enqueue in these tests happens right after its commit.
      INGEST_OUTBOX_INTERVAL_MS: "600000",
      LOG_LEVEL: "silent",
    },
  );
  const ingest = await startIngest(ingestEnv, options.policy === undefined ? {} : { policy: options.policy });

  const producer = new Redis(world.redis.url);
  const queues = createQueues(producer, prefix);
  const workerEnv = (endpoint: string, overrides: Record<string, string> = {}): Record<string, string> =>
    world.workerEnv({ prefix, endpoint }, overrides);

  let worker: RunningWorker | null =
    options.worker === false ? null : await startWorkerInProcess(workerEnv(world.moto.endpoint, options.worker), options.awsMiddleware);

  let stopped: Promise<void> | undefined;
  const lane: Lane = {
    prefix,
    queueUrl,
    queues,
    ingest: ingest.service,
    get worker() {
      return worker;
    },
    async send(detail) {
      return lane.sendBody(JSON.stringify(eventBridgeEvent(detail)));
    },
    sendBody: (body) => sendBody(world.sqs, queueUrl, body),
    workerEnv,
    async restartWorker(overrides = {}, awsMiddleware) {
      await worker?.stop();
      worker = await startWorkerInProcess(workerEnv(world.moto.endpoint, overrides), awsMiddleware);
      return worker;
    },
    jobs: () => jobsIn([queueFor(queues, "instance") as Queue<RemediationJob>]),
    stop() {
      stopped ??= (async () => {
        world.lanes.delete(lane);
        await Promise.allSettled([worker?.stop(), ingest.stop()]);
        await closeQueues(queues);
        producer.disconnect();
      })();
      return stopped;
    },
  };
  world.lanes.add(lane);
  world.defer(() => lane.stop());
  return lane;
}

// ---------------------------------------------------------------------------------------------
// Seeding and reading, in the shapes the engine tests were written against.

export async function seed(world: EngineWorld, options: SeedInstanceOptions = {}): Promise<SeededInstance> {
  return seedInstance(world.aws, options);
}

export function auditOf(db: TestDatabase, remediationId: string): Promise<AuditRow[]> {
  return auditRows(db, { remediationId });
}

export function outboxOf(db: TestDatabase, remediationId: string): Promise<OutboxRow[]> {
  return outboxRows(db, { remediationId });
}

export function receiptsOf(db: TestDatabase, messageIds: readonly string[]): Promise<ReceiptRow[]> {
  return receiptRows(db, { messageIds });
}

/** Waits until the lane's findings queue holds nothing, visible or in flight: ingest is done with it. */
export async function waitForEmptyQueue(world: EngineWorld, lane: Lane): Promise<void> {
  await waitForEmptySqsQueue(world.sqs, lane.queueUrl, { attempts: 150, intervalMs: 100 });
}
