// What every engine test needs: a world of real services (a database, a Redis prefix, a moto
// server) and, per test, a "lane" of its own: an SQS queue, a QUEUE_PREFIX (so queues, token
// buckets, the pause switch and the isolation cap never leak between tests), the ingest service
// in this process and, unless the test runs real worker processes, the worker service in this
// process too. Readers of the state tests assert on go around the code under test: rows with
// plain SQL, jobs with BullMQ, AWS state with SDK clients straight to moto (viewInstance and
// containmentProblems in test/support/instance-view.ts).
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { AwsClients } from "@gdr/core/aws/clients";
import { eventBridgeEvent, instanceFinding, setIn, type InstanceFindingOptions, type JsonObject } from "@gdr/samples/findings";
import { createLogger } from "@gdr/core/log";
import { createMetricsRegistry } from "@gdr/core/metrics";
import { loadPolicyFile, parsePolicy } from "@gdr/core/policy/index";
import type { RemediationJob } from "@gdr/core/queues/catalog";
import { closeQueues, createQueues, type RemediationQueues } from "@gdr/core/queues/queues";
import { loadIngestConfig } from "@gdr/ingest/config";
import { createIngestService, type IngestService } from "@gdr/ingest/service";
import { loadWorkerConfig } from "@gdr/worker/config";
import { createWorkerService, type WorkerService } from "@gdr/worker/service";
import type { InitializeMiddleware, MiddlewareStack } from "@smithy/types";
import type { Job } from "bullmq";
import { Redis } from "ioredis";
import { createFindingsQueue } from "../../scripts/demo/queue.js";
import {
  awsTestEnv,
  createTestDatabase,
  createTestRedis,
  seedInstance,
  spawnTs,
  startMoto,
  waitUntil,
  type AwsProxy,
  type AwsRequest,
  type HoldHandle,
  type Moto,
  type SeedClients,
  type SeededInstance,
  type SeedInstanceOptions,
  type TestDatabase,
  type TestRedis,
  type TsChild,
} from "../support/index.js";

/** moto's default account: everything seeded lives there, and it is the worker's own account. */
export const ACCOUNT = "123456789012";
/** The containment steps of the Instance playbook, in order (terminate only when configured). */
export const CONTAINMENT_STEPS = [
  "identify",
  "leave-auto-scaling",
  "isolate",
  "protect-evidence",
  "leave-target-groups",
  "tag",
  "snapshot-volumes",
  "malware-scan",
  "verify",
] as const;

const WORKER_ENTRY = "services/worker/src/main.ts";

// ---------------------------------------------------------------------------------------------
// The world: one per test file.

export interface EngineWorld {
  db: TestDatabase;
  redis: TestRedis;
  moto: Moto;
  /** SDK clients straight to moto, for seeding and for asserting. */
  aws: SeedClients;
  sqs: SQSClient;
  /** Lanes still running; close() stops them. */
  lanes: Set<Lane>;
  /** Numbers lanes (prefixes, queue names) within the file. */
  nextLane(): number;
  close(): Promise<void>;
}

export async function createEngineWorld(): Promise<EngineWorld> {
  const [db, moto] = await Promise.all([createTestDatabase(), startMoto()]);
  const redis = createTestRedis();
  const env = awsTestEnv(moto.endpoint);
  // The worker service builds its SDK clients with the default credential chain, which reads the
  // environment (as in production). This process is this file's own (vitest forks), so moto's
  // fake keys go there; the endpoint does not: it is handed to every client explicitly.
  const { AWS_ENDPOINT_URL: _endpoint, ...credentialEnv } = env.env;
  const previousEnv = Object.fromEntries(Object.keys(credentialEnv).map((key) => [key, process.env[key]]));
  Object.assign(process.env, credentialEnv);
  const config = { region: env.region, endpoint: env.endpoint, credentials: env.credentials };
  const aws: SeedClients = {
    ec2: new EC2Client(config),
    autoscaling: new AutoScalingClient(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
  };
  const sqs = new SQSClient(config);
  const lanes = new Set<Lane>();
  let lanesMade = 0;
  return {
    db,
    redis,
    moto,
    aws,
    sqs,
    lanes,
    nextLane: () => ++lanesMade,
    async close() {
      await Promise.allSettled([...lanes].map((l) => l.stop()));
      aws.ec2.destroy();
      aws.autoscaling.destroy();
      aws.elbv2.destroy();
      sqs.destroy();
      await Promise.allSettled([db.drop(), redis.cleanup(), moto.stop()]);
      for (const [key, value] of Object.entries(previousEnv)) {
        if (value === undefined) Reflect.deleteProperty(process.env, key);
        else process.env[key] = value;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Logs of an in-process worker, captured (pino writes JSON lines to any { write }).

export interface LogLine {
  msg?: string;
  level?: number;
  [key: string]: unknown;
}

export interface LogSink {
  lines: LogLine[];
  write(chunk: string): void;
  /** Resolves with the first line, logged already or yet to come, that matches. */
  waitFor(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  count(match: (line: LogLine) => boolean): number;
}

export function createLogSink(): LogSink {
  const lines: LogLine[] = [];
  const listeners = new Set<(line: LogLine) => void>();
  return {
    lines,
    write(chunk) {
      for (const text of chunk.split("\n")) {
        if (text.trim() === "") continue;
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { msg: text };
        }
        lines.push(line);
        for (const l of listeners) l(line);
      }
    },
    waitFor(match, what, timeoutMs = 30_000) {
      const already = lines.find(match);
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const onLine = (line: LogLine): void => {
          if (!match(line)) return;
          clearTimeout(timer);
          listeners.delete(onLine);
          resolve(line);
        };
        const timer = setTimeout(() => {
          listeners.delete(onLine);
          reject(new Error(`no worker log line for ${what} within ${timeoutMs} ms`));
        }, timeoutMs);
        listeners.add(onLine);
      });
    },
    count: (match) => lines.filter(match).length,
  };
}

// ---------------------------------------------------------------------------------------------
// Lanes: one per test.

export interface RunningWorker {
  service: WorkerService;
  logs: LogSink;
  /** The worker's /metrics text. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

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

const ALL_JOB_STATES = ["active", "completed", "delayed", "failed", "paused", "prioritized", "waiting", "waiting-children"] as const;

/** Settings every test worker shares: fast postponing, EC2 buckets out of the way (moto never throttles). */
function baseWorkerEnv(world: EngineWorld, prefix: string, endpoint: string): Record<string, string> {
  return {
    ...awsTestEnv(endpoint).env,
    DATABASE_URL: world.db.url,
    REDIS_URL: world.redis.url,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: "info",
    WORKER_ACCOUNT_ID: ACCOUNT,
    WORKER_HTTP_HOST: "127.0.0.1",
    WORKER_HTTP_PORT: "0",
    WORKER_POSTPONE_MS: "200",
    WORKER_JOB_LOCK_MS: "10000",
    WORKER_LOCK_TTL_MS: "5000",
    WORKER_EC2_WRITE_PER_SECOND: "100",
    WORKER_EC2_WRITE_BURST: "1000",
    WORKER_EC2_READ_PER_SECOND: "1000",
    WORKER_EC2_READ_BURST: "1000",
    SHUTDOWN_TIMEOUT_MS: "10000",
    // Lanes share a database but not a queue prefix: one lane's reconciler would take another
    // lane's open remediations for lost. Tests of the reconciler set their own grace period.
    WORKER_RECONCILE_GRACE_MS: "3600000",
    // moto has no GuardDuty GetFindings: the confirmation gate is off here (allowed because
    // AWS_ENDPOINT_URL points at moto) and tested with a mocked GuardDuty in gates-confirm.test.ts.
    WORKER_CONFIRM_FINDINGS: "false",
  };
}

export async function startWorkerInProcess(
  env: Record<string, string>,
  awsMiddleware?: (clients: AwsClients) => void,
): Promise<RunningWorker> {
  const config = loadWorkerConfig(env);
  const logs = createLogSink();
  const logger = createLogger({ level: config.LOG_LEVEL, name: "worker", destination: logs });
  const service = createWorkerService(config, {
    logger,
    registry: createMetricsRegistry({ service: "worker" }),
    ...(awsMiddleware ? { awsMiddleware } : {}),
  });
  await service.start();
  return {
    service,
    logs,
    async metrics() {
      const res = await fetch(`http://127.0.0.1:${service.port()}/metrics`, { signal: AbortSignal.timeout(10_000) });
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
      return res.text();
    },
    stop: () => service.stop(),
  };
}

export async function startLane(world: EngineWorld, options: LaneOptions = {}): Promise<Lane> {
  const n = world.nextLane();
  const prefix = `${world.redis.prefix}-${n}`;
  const { queueUrl } = await createFindingsQueue(world.sqs, `findings-${n}`, 30);
  const aws = awsTestEnv(world.moto.endpoint);
  const ingestConfig = loadIngestConfig({
    ...aws.env,
    DATABASE_URL: world.db.url,
    REDIS_URL: world.redis.url,
    SQS_QUEUE_URL: queueUrl,
    QUEUE_PREFIX: prefix,
    INGEST_HTTP_HOST: "127.0.0.1",
    INGEST_HTTP_PORT: "0",
    INGEST_POLLERS: "1",
    INGEST_WAIT_TIME_SECONDS: "1",
    INGEST_VISIBILITY_TIMEOUT: "30",
    // Each lane's relay would also pick up other lanes' pending rows (one database per file):
    // keep it out of the way; every enqueue in these tests happens right after its commit.
    INGEST_OUTBOX_INTERVAL_MS: "600000",
    LOG_LEVEL: "silent",
  });
  const ingest = createIngestService(ingestConfig, {
    logger: createLogger({ level: "silent", name: "ingest" }),
    registry: createMetricsRegistry({ service: "ingest" }),
    sqsClient: new SQSClient({ region: aws.region, endpoint: aws.endpoint, credentials: aws.credentials, maxAttempts: 3 }),
    policy: options.policy === undefined ? loadPolicyFile(ingestConfig.POLICY_FILE) : parsePolicy(options.policy, "test policy"),
  });
  await ingest.start();

  const producer = new Redis(world.redis.url);
  const queues = createQueues(producer, prefix);
  const workerEnv = (endpoint: string, overrides: Record<string, string> = {}): Record<string, string> => ({
    ...baseWorkerEnv(world, prefix, endpoint),
    ...overrides,
  });

  let worker: RunningWorker | null =
    options.worker === false ? null : await startWorkerInProcess(workerEnv(world.moto.endpoint, options.worker), options.awsMiddleware);

  let stopped: Promise<void> | undefined;
  const lane: Lane = {
    prefix,
    queueUrl,
    queues,
    ingest,
    get worker() {
      return worker;
    },
    async send(detail) {
      return lane.sendBody(JSON.stringify(eventBridgeEvent(detail)));
    },
    async sendBody(body) {
      const out = await world.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      if (!out.MessageId) throw new Error("SendMessage returned no MessageId");
      return out.MessageId;
    },
    workerEnv,
    async restartWorker(overrides = {}, awsMiddleware) {
      await worker?.stop();
      worker = await startWorkerInProcess(workerEnv(world.moto.endpoint, overrides), awsMiddleware);
      return worker;
    },
    async jobs() {
      const queue = queues.get("instance");
      if (!queue) throw new Error("no instance queue");
      return (await queue.getJobs([...ALL_JOB_STATES])) as Job<RemediationJob>[];
    },
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
  return lane;
}

// ---------------------------------------------------------------------------------------------
// Worker processes (real children: SIGKILL is real).

export interface WorkerProcess {
  child: TsChild;
  /** The jobs this process finished, with their outcome, from its "remediation job done" log lines. */
  finished(): { resource: string; outcome: string; jobId: string }[];
  kill(): Promise<void>;
  /** SIGTERM, and waits for the exit. */
  stop(): Promise<void>;
}

export async function spawnWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawnTs(WORKER_ENTRY, env);
  await child.waitForLine(/"msg":"worker started"/, 30_000);
  return {
    child,
    finished() {
      return child.lines.flatMap((l) => {
        if (!l.text.includes('"msg":"remediation job done"')) return [];
        const line = JSON.parse(l.text) as { resource: string; outcome: string; jobId: string };
        return [{ resource: line.resource, outcome: line.outcome, jobId: line.jobId }];
      });
    },
    async kill() {
      child.kill("SIGKILL");
      await child.exited;
    },
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

/** A request held at the proxy (a HoldHandle is thenable, so it travels wrapped). */
export interface Held {
  hold: HoldHandle;
  request: AwsRequest;
}

/**
 * Holds the `n`-th request of `operation` that reaches the proxy from now on: the earlier ones
 * are each held on arrival and let through at once (a new hold is in place before the previous
 * one is released, so no request slips past uncounted). Resolves once the n-th is held.
 */
export async function holdNth(proxy: AwsProxy, operation: string, n: number): Promise<Held> {
  let hold = proxy.hold(operation);
  for (let i = 1; i < n; i++) {
    await hold.arrived;
    const next = proxy.hold(operation);
    hold.release();
    hold = next;
  }
  return { hold, request: await hold.arrived };
}

/** Holds the first request of `then` that arrives after the n-th of `after` passed. */
export async function holdAfter(proxy: AwsProxy, after: { operation: string; n: number }, then: string): Promise<Held> {
  const first = await holdNth(proxy, after.operation, after.n);
  const next = proxy.hold(then);
  first.hold.release();
  return { hold: next, request: await next.arrived };
}

// ---------------------------------------------------------------------------------------------
// Stalling one operation of an in-process worker's SDK client (no proxy needed).

export interface Gate {
  /** Resolves when the call reached the gate. */
  arrived: Promise<void>;
  release(): void;
  /** Puts the gate on a client (e.g. from the worker's awsMiddleware, once its clients exist). */
  install<Input extends object, Output extends object>(client: WithMiddleware<Input, Output>): void;
}

interface WithMiddleware<Input extends object, Output extends object> {
  middlewareStack: MiddlewareStack<Input, Output>;
}

let gateCounter = 0;

/** Makes the first call of `operation` wait until release(); later calls pass. */
export function createGate(operation: string): Gate {
  let arrive = (): void => undefined;
  const arrived = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let used = false;
  return {
    arrived,
    release,
    install<Input extends object, Output extends object>(client: WithMiddleware<Input, Output>) {
      const middleware: InitializeMiddleware<Input, Output> = (next, context) => async (args) => {
        if (!used && context.commandName === `${operation}Command`) {
          used = true;
          arrive();
          await released;
        }
        return next(args);
      };
      client.middlewareStack.add(middleware, { step: "initialize", name: `gdr-gate-${++gateCounter}` });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Findings.

/** A finding on an instance moto really holds: its ids, interfaces, groups, VPC and subnet. */
export function findingFor(instance: SeededInstance, options: InstanceFindingOptions = {}): JsonObject {
  const detail = instanceFinding({ accountId: ACCOUNT, ...options, instanceId: instance.instanceId, eniCount: 2 });
  const interfaces = [instance.primaryEniId, instance.secondaryEniId].map((id, i) => ({
    networkInterfaceId: id,
    privateIpAddress: `10.0.1.${20 + i}`,
    subnetId: instance.subnetId,
    vpcId: instance.vpcId,
    securityGroups: (instance.eniGroups[id] ?? []).map((groupId) => ({ groupId, groupName: groupId })),
  }));
  setIn(detail, ["resource", "instanceDetails", "networkInterfaces"], interfaces);
  return detail;
}

export function findingIdOf(detail: JsonObject): string {
  const id = detail["id"];
  if (typeof id !== "string") throw new Error("finding has no id");
  return id;
}

export async function seed(world: EngineWorld, options: SeedInstanceOptions = {}): Promise<SeededInstance> {
  return seedInstance(world.aws, options);
}

// ---------------------------------------------------------------------------------------------
// Rows, read with plain SQL.

export interface RemediationRow {
  id: string;
  finding_id: string;
  resource_key: string;
  mode: string;
  status: string;
  job_id: string;
  plan: unknown;
  plan_hash: string | null;
  error: string | null;
}

export async function remediationsOf(db: TestDatabase, where: { findingId?: string; resourceKey?: string }): Promise<RemediationRow[]> {
  const { rows } = await db.pool.query<RemediationRow>(
    `SELECT id::text AS id, finding_id, resource_key, mode::text AS mode, status::text AS status, job_id, plan, plan_hash, error
       FROM remediations
      WHERE ($1::text IS NULL OR finding_id = $1) AND ($2::text IS NULL OR resource_key = $2)
      ORDER BY created_at, id`,
    [where.findingId ?? null, where.resourceKey ?? null],
  );
  return rows;
}

export async function remediation(db: TestDatabase, id: string): Promise<RemediationRow> {
  const { rows } = await db.pool.query<RemediationRow>(
    `SELECT id::text AS id, finding_id, resource_key, mode::text AS mode, status::text AS status, job_id, plan, plan_hash, error
       FROM remediations WHERE id = $1::uuid`,
    [id],
  );
  const row = rows[0];
  if (!row) throw new Error(`no remediation ${id}`);
  return row;
}

/** Waits for ingest to have created the finding's remediation (one), and returns it. */
export async function remediationForFinding(db: TestDatabase, findingId: string): Promise<RemediationRow> {
  let found: RemediationRow | undefined;
  await waitUntil(
    async () => {
      found = (await remediationsOf(db, { findingId }))[0];
      return found !== undefined;
    },
    { attempts: 150, intervalMs: 100, what: `a remediation for finding ${findingId}` },
  );
  if (!found) throw new Error("unreachable");
  return found;
}

export async function waitForStatus(db: TestDatabase, id: string, statuses: readonly string[], attempts = 300): Promise<RemediationRow> {
  let row: RemediationRow | undefined;
  await waitUntil(
    async () => {
      row = await remediation(db, id);
      return statuses.includes(row.status);
    },
    { attempts, intervalMs: 100, what: `remediation ${id} to be ${statuses.join(" or ")} (last: ${row?.status ?? "?"}, ${row?.error ?? ""})` },
  );
  if (!row) throw new Error("unreachable");
  return row;
}

export interface StepRow {
  name: string;
  order: number;
  status: string;
  attempts: number;
  output: unknown;
  error_class: string | null;
  error_code: string | null;
  started_at: Date | null;
  finished_at: Date | null;
}

export async function stepsOf(db: TestDatabase, remediationId: string): Promise<StepRow[]> {
  const { rows } = await db.pool.query<StepRow>(
    `SELECT name, "order", status::text AS status, attempts, output, error_class, error_code, started_at, finished_at
       FROM remediation_steps WHERE remediation_id = $1::uuid ORDER BY "order", id`,
    [remediationId],
  );
  return rows;
}

export function stepMap(rows: readonly StepRow[]): Map<string, StepRow> {
  return new Map(rows.map((r) => [r.name, r]));
}

export interface AuditRow {
  actor: string;
  action: string;
  step: string | null;
  note: string | null;
  code: string | null;
  aws_request_ids: string[];
  at: Date;
}

export async function auditOf(db: TestDatabase, remediationId: string): Promise<AuditRow[]> {
  const { rows } = await db.pool.query<AuditRow>(
    `SELECT actor, action, detail->>'step' AS step, detail->>'note' AS note, detail->>'code' AS code, aws_request_ids, at
       FROM audit_events WHERE remediation_id = $1::uuid ORDER BY id`,
    [remediationId],
  );
  return rows;
}

export async function outboxOf(db: TestDatabase, remediationId: string): Promise<{ job_id: string; dispatched: boolean; action: string }[]> {
  const { rows } = await db.pool.query<{ job_id: string; dispatched: boolean; action: string }>(
    `SELECT job_id, dispatched_at IS NOT NULL AS dispatched, payload->>'action' AS action
       FROM outbox WHERE remediation_id = $1::uuid ORDER BY id`,
    [remediationId],
  );
  return rows;
}

export async function approvalsOf(db: TestDatabase, remediationId: string): Promise<{ step: string; decision: string; actor: string; plan_hash: string }[]> {
  const { rows } = await db.pool.query<{ step: string; decision: string; actor: string; plan_hash: string }>(
    "SELECT step, decision::text AS decision, actor, plan_hash FROM approvals WHERE remediation_id = $1::uuid ORDER BY decided_at",
    [remediationId],
  );
  return rows;
}

export async function receiptsOf(db: TestDatabase, messageIds: readonly string[]): Promise<{ sqs_message_id: string; outcome: string; reason: string }[]> {
  const { rows } = await db.pool.query<{ sqs_message_id: string; outcome: string; reason: string }>(
    "SELECT sqs_message_id, outcome::text AS outcome, reason FROM ingest_receipts WHERE sqs_message_id = ANY($1::text[]) ORDER BY id",
    [[...messageIds]],
  );
  return rows;
}

/** Waits until the lane's findings queue holds nothing, visible or in flight: ingest is done with it. */
export async function waitForEmptyQueue(world: EngineWorld, lane: Lane): Promise<void> {
  await waitUntil(
    async () => {
      const out = await world.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: lane.queueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return out.Attributes?.["ApproximateNumberOfMessages"] === "0" && out.Attributes["ApproximateNumberOfMessagesNotVisible"] === "0";
    },
    { attempts: 150, intervalMs: 100, what: "the findings queue to be empty" },
  );
}

export async function waitForReceipts(db: TestDatabase, messageIds: readonly string[]): Promise<void> {
  await waitUntil(async () => (await receiptsOf(db, messageIds)).length === messageIds.length, {
    attempts: 150,
    intervalMs: 100,
    what: `receipts for ${messageIds.length} message(s)`,
  });
}

// ---------------------------------------------------------------------------------------------
// Metrics.

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
