// What every ingest integration test needs: its own world of real services (a database, a Redis
// prefix, a moto server holding the findings queue and its dead-letter queue), the ingest service
// running in this process or the environment for a real ingest process, and plain readers of the
// state the tests assert on (rows read with node-postgres, jobs read with BullMQ, queue depth read
// from moto), so that no assertion goes through the code under test.
import { createHash } from "node:crypto";
import { GetQueueAttributesCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Queue, type Job } from "bullmq";
import type { JsonObject, JsonValue } from "@gdr/samples/findings";
import { createLogger } from "@gdr/core/log";
import { createMetricsRegistry } from "@gdr/core/metrics";
import type { FanOutNotifier, NotificationEvent } from "@gdr/core/notify/index";
import type { RemediationJob } from "@gdr/core/queues/catalog";
import { PLAYBOOKS, type PlaybookName } from "@gdr/core/queues/playbooks";
import { loadIngestConfig } from "@gdr/ingest/config";
import { createIngestService, type IngestService } from "@gdr/ingest/service";
import { createFindingsQueue } from "../../scripts/demo/queue.js";
import {
  awsTestEnv,
  createTestDatabase,
  createTestRedis,
  startMoto,
  waitUntil,
  type AwsProxy,
  type Moto,
  type TestDatabase,
  type TestRedis,
} from "../support/index.js";

/** Short, so that a message whose batch failed comes back within seconds. */
export const VISIBILITY_TIMEOUT_SECONDS = 5;

export interface World {
  db: TestDatabase;
  redis: TestRedis;
  moto: Moto;
  /** A client straight to moto, for sending and inspecting messages. */
  sqs: SQSClient;
  queueUrl: string;
  dlqUrl: string;
  /** BullMQ queues under this file's prefix, one per playbook, for reading jobs. */
  queues: ReadonlyMap<PlaybookName, Queue<RemediationJob>>;
  close(): Promise<void>;
}

export async function createWorld(): Promise<World> {
  const [db, moto] = await Promise.all([createTestDatabase(), startMoto()]);
  const redis = createTestRedis();
  const sqs = new SQSClient(awsTestEnv(moto.endpoint));
  const { queueUrl, dlqUrl } = await createFindingsQueue(sqs, "guardduty-findings", VISIBILITY_TIMEOUT_SECONDS);
  const queues = new Map(
    PLAYBOOKS.map((name) => [name, new Queue<RemediationJob>(name, { connection: redis.connection, prefix: redis.prefix })] as const),
  );
  return {
    db,
    redis,
    moto,
    sqs,
    queueUrl,
    dlqUrl,
    queues,
    async close() {
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
      sqs.destroy();
      await Promise.allSettled([db.drop(), redis.cleanup(), moto.stop()]);
    },
  };
}

/**
 * The environment an ingest process needs to work in `world`. `endpoint` is where its SQS client
 * goes (moto, or an AWS proxy in front of it).
 */
export function ingestEnv(world: World, overrides: Record<string, string> = {}, endpoint = world.moto.endpoint): Record<string, string> {
  return {
    ...awsTestEnv(endpoint).env,
    DATABASE_URL: world.db.url,
    REDIS_URL: world.redis.url,
    SQS_QUEUE_URL: world.queueUrl,
    QUEUE_PREFIX: world.redis.prefix,
    INGEST_HTTP_HOST: "127.0.0.1",
    INGEST_HTTP_PORT: "0",
    INGEST_WAIT_TIME_SECONDS: "1",
    INGEST_VISIBILITY_TIMEOUT: String(VISIBILITY_TIMEOUT_SECONDS),
    LOG_LEVEL: process.env["TEST_INGEST_LOG_LEVEL"] ?? "silent",
    ...overrides,
  };
}

export interface RunningIngest {
  service: IngestService;
  get(path: string): Promise<{ status: number; text: string }>;
  /** The current value of a metric, summed over the series whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

/** A notifier that keeps what it is told, typed against the real one (no channel to deliver to). */
export interface RecordingNotifier extends FanOutNotifier {
  readonly events: NotificationEvent[];
}

export function recordingNotifier(): RecordingNotifier {
  const events: NotificationEvent[] = [];
  return {
    events,
    notify(event) {
      events.push(event);
    },
    drain: () => Promise.resolve(),
    inFlight: () => 0,
  };
}

/** The ingest service as main.ts composes it, in this process (no signal handling). */
export async function startIngest(env: Record<string, string>, options: { notifier?: FanOutNotifier } = {}): Promise<RunningIngest> {
  const config = loadIngestConfig(env);
  const logger = createLogger({ level: config.LOG_LEVEL, name: "ingest-test" });
  // The service would build this client from the same settings, with credentials from
  // process.env; handing it over keeps moto's fake credentials out of this process's environment.
  const aws = awsTestEnv(config.AWS_ENDPOINT_URL ?? "");
  const sqsClient = new SQSClient({ region: aws.region, endpoint: aws.endpoint, credentials: aws.credentials, maxAttempts: 3 });
  const service = createIngestService(config, {
    logger,
    registry: createMetricsRegistry({ service: "ingest-test" }),
    sqsClient,
    ...(options.notifier ? { notifier: options.notifier } : {}),
  });
  await service.start();
  const get = async (path: string): Promise<{ status: number; text: string }> => {
    const res = await fetch(`http://127.0.0.1:${service.port()}${path}`, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, text: await res.text() };
  };
  return {
    service,
    get,
    async metric(name, labels = {}) {
      const { status, text } = await get("/metrics");
      if (status !== 200) throw new Error(`/metrics answered ${status}`);
      return metricValue(text, name, labels);
    },
    stop: () => service.stop(),
  };
}

/** Sums the samples of `name` in Prometheus text whose labels include every one of `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split("\n")) {
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!sample || sample[1] !== name) continue;
    const found = new Map([...(sample[2] ?? "").matchAll(/([A-Za-z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found.get(key) === value)) total += Number(sample[3]);
  }
  return total;
}

/** Sends each body as its own message, ten per SendMessageBatch; returns the message ids in order. */
export async function sendBodies(world: World, bodies: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < bodies.length; start += 10) {
    const chunk = bodies.slice(start, start + 10);
    const out = await world.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: world.queueUrl,
        Entries: chunk.map((body, i) => ({ Id: String(i), MessageBody: body })),
      }),
    );
    if ((out.Failed ?? []).length > 0) throw new Error(`SendMessageBatch failed: ${JSON.stringify(out.Failed)}`);
    const byEntry = new Map((out.Successful ?? []).map((s) => [s.Id, s.MessageId]));
    chunk.forEach((_body, i) => {
      const id = byEntry.get(String(i));
      if (!id) throw new Error(`SendMessageBatch returned no MessageId for entry ${i}`);
      ids.push(id);
    });
  }
  return ids;
}

/**
 * Sends the bodies while the ReceiveMessage calls of all `pollers` are parked at `proxy`, then lets
 * them go: every message is on the queue when the first receive runs, so the pollers take all of
 * them at once. (A long poll that is woken by the first message of a SendMessageBatch can take
 * just part of it; a test that then stalls those pollers would never see the rest received.)
 */
export async function sendWhileReceivesHeld(world: World, proxy: AwsProxy, pollers: number, bodies: readonly string[]): Promise<string[]> {
  const hold = proxy.hold("ReceiveMessage");
  try {
    await waitUntil(() => hold.held() >= pollers, { attempts: 100, intervalMs: 50, what: `the receives of ${pollers} poller(s) to be held` });
    return await sendBodies(world, bodies);
  } finally {
    hold.release();
  }
}

export async function sendBody(world: World, body: string): Promise<string> {
  const out = await world.sqs.send(new SendMessageCommand({ QueueUrl: world.queueUrl, MessageBody: body }));
  if (!out.MessageId) throw new Error("SendMessage returned no MessageId");
  return out.MessageId;
}

export interface QueueDepth {
  visible: number;
  inFlight: number;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(out.Attributes?.["ApproximateNumberOfMessages"] ?? "NaN"),
    inFlight: Number(out.Attributes?.["ApproximateNumberOfMessagesNotVisible"] ?? "NaN"),
  };
}

/** Waits until the findings queue holds nothing, visible or in flight (bounded). */
export async function waitForEmptyQueue(world: World, what: string, attempts = 150): Promise<void> {
  await waitUntil(
    async () => {
      const depth = await queueDepth(world.sqs, world.queueUrl);
      return depth.visible === 0 && depth.inFlight === 0;
    },
    { attempts, intervalMs: 200, what },
  );
}

export const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");

// --- rows, read with plain SQL -------------------------------------------------------------------

export interface ReceiptRow {
  sqs_message_id: string;
  body_sha256: string;
  body_bytes: number;
  outcome: string;
  reason: string;
  detail: string | null;
  finding_id: string | null;
  finding_count: number | null;
  finding_updated_at: Date | null;
  rejected_body: Buffer | null;
  deliveries: number;
}

export async function receiptRows(db: TestDatabase): Promise<ReceiptRow[]> {
  const { rows } = await db.pool.query<ReceiptRow>(
    `SELECT sqs_message_id, body_sha256, body_bytes, outcome::text AS outcome, reason, detail, finding_id, finding_count,
            finding_updated_at, rejected_body, deliveries
       FROM ingest_receipts ORDER BY id`,
  );
  return rows;
}

export async function receiptCount(db: TestDatabase): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM ingest_receipts");
  return rows[0]?.n ?? 0;
}

export interface FindingRow {
  id: string;
  account_id: string;
  region: string;
  type: string;
  severity: string;
  resource_type: string;
  resource_key: string | null;
  count: number;
  archived: boolean;
  sample: boolean;
  gd_updated_at: Date;
  last_seen_at: Date;
  raw: unknown;
}

export async function findingRows(db: TestDatabase): Promise<FindingRow[]> {
  const { rows } = await db.pool.query<FindingRow>(
    `SELECT id, account_id, region, type, severity::text AS severity, resource_type, resource_key, count, archived, sample,
            gd_updated_at, last_seen_at, raw
       FROM findings ORDER BY id`,
  );
  return rows;
}

export interface RemediationRow {
  id: string;
  finding_id: string;
  playbook: string;
  resource_key: string;
  account_id: string;
  region: string;
  mode: string;
  status: string;
  rule_name: string;
  job_id: string;
}

export async function remediationRows(db: TestDatabase): Promise<RemediationRow[]> {
  const { rows } = await db.pool.query<RemediationRow>(
    `SELECT id::text AS id, finding_id, playbook, resource_key, account_id, region, mode::text AS mode, status::text AS status,
            rule_name, job_id
       FROM remediations ORDER BY created_at, id`,
  );
  return rows;
}

export interface OutboxRow {
  remediation_id: string;
  queue: string;
  job_id: string;
  payload: unknown;
  dispatched_at: Date | null;
  attempts: number;
  last_error: string | null;
}

export async function outboxRows(db: TestDatabase): Promise<OutboxRow[]> {
  const { rows } = await db.pool.query<OutboxRow>(
    "SELECT remediation_id::text AS remediation_id, queue, job_id, payload, dispatched_at, attempts, last_error FROM outbox ORDER BY id",
  );
  return rows;
}

export async function auditActions(db: TestDatabase): Promise<{ actor: string; action: string; finding_id: string | null; remediation_id: string | null }[]> {
  const { rows } = await db.pool.query<{ actor: string; action: string; finding_id: string | null; remediation_id: string | null }>(
    "SELECT actor, action, finding_id, remediation_id::text AS remediation_id FROM audit_events ORDER BY id",
  );
  return rows;
}

// --- BullMQ --------------------------------------------------------------------------------------

const ALL_JOB_STATES = ["active", "completed", "delayed", "failed", "paused", "prioritized", "waiting", "waiting-children"] as const;

export function queueOf(world: World, playbook: string): Queue<RemediationJob> {
  const queue = world.queues.get(playbook as PlaybookName);
  if (!queue) throw new Error(`no BullMQ queue for playbook ${playbook}`);
  return queue;
}

/** Every job in every playbook queue under this file's prefix, whatever its state. */
export async function allJobs(world: World): Promise<Job<RemediationJob>[]> {
  const perQueue = await Promise.all([...world.queues.values()].map((q) => q.getJobs([...ALL_JOB_STATES])));
  return perQueue.flat();
}

/** The number of jobs BullMQ counts in every state of every playbook queue. */
export async function jobTotal(world: World): Promise<number> {
  const counts = await Promise.all([...world.queues.values()].map((q) => q.getJobCounts()));
  return counts.reduce((sum, c) => sum + Object.values(c).reduce((a, b) => a + b, 0), 0);
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

// --- fixtures ------------------------------------------------------------------------------------

/** Reads a value out of a fixture finding by path (undefined when the path is absent). */
export function at(value: JsonValue | undefined, ...path: (string | number)[]): JsonValue | undefined {
  let node = value;
  for (const key of path) {
    if (Array.isArray(node)) node = node[Number(key)];
    else if (typeof node === "object" && node !== null) node = node[String(key)];
    else return undefined;
  }
  return node;
}

export function stringAt(value: JsonValue | undefined, ...path: (string | number)[]): string {
  const found = at(value, ...path);
  if (typeof found !== "string") throw new Error(`fixture has no string at ${path.join(".")}`);
  return found;
}

/**
 * The resource key ingest must derive from a fixture finding, read from the fixture itself
 * (DESIGN: instance id; cluster/namespace/pod; task ARN; container id; access key id).
 */
export function fixtureResourceKey(detail: JsonObject): string {
  const resource = at(detail, "resource");
  switch (stringAt(resource, "resourceType")) {
    case "Instance":
      return stringAt(resource, "instanceDetails", "instanceId");
    case "EKSCluster": {
      const pod = at(resource, "kubernetesDetails", "kubernetesWorkloadDetails");
      return `${stringAt(resource, "eksClusterDetails", "name")}/${stringAt(pod, "namespace")}/${stringAt(pod, "name")}`;
    }
    case "ECSCluster":
      return stringAt(resource, "ecsClusterDetails", "taskDetails", "arn");
    case "Container":
      return stringAt(resource, "containerDetails", "id");
    case "AccessKey":
      return stringAt(resource, "accessKeyDetails", "accessKeyId");
    default:
      throw new Error(`no resource key for ${stringAt(resource, "resourceType")}`);
  }
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
