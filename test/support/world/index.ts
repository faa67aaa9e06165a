// One composable test world: the real services a test file needs (its own database, a Redis
// prefix, its own moto server with SDK clients straight to it) and starters for the services
// under test (ingest, the worker in this process or as a child, the API). Each part is optional;
// everything started through the world is closed by world.close(), last started first.
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { IAMClient } from "@aws-sdk/client-iam";
import { SQSClient } from "@aws-sdk/client-sqs";
import { STSClient } from "@aws-sdk/client-sts";
import type { AwsClients } from "@gdr/core/aws/clients";
import { awsTestEnv } from "../aws-env.js";
import { createTestDatabase, type TestDatabase } from "../database.js";
import { startMoto, type Moto } from "../moto.js";
import { createTestRedis, type TestRedis } from "../redis.js";
import type { SeedClients } from "../seed/instance.js";
import { startApi, type ApiOptions, type RunningApi } from "./api.js";
import { ingestEnv, startIngest, type IngestOptions, type RunningIngest } from "./ingest.js";
import { closePlaybookQueues, playbookQueues, type PlaybookQueues } from "./jobs.js";
import { createFindingsQueue } from "./sqs.js";
import { spawnWorker, startWorkerInProcess, workerEnv, type RunningWorker, type WorkerProcess } from "./worker.js";

export interface WorldOptions {
  /** A database of this file's own, copied from the migrated template (default true). */
  database?: boolean;
  /** A key prefix of this file's own on the shared Redis (default true). */
  redis?: boolean;
  /** A moto server of this file's own, and SDK clients straight to it (default true). */
  moto?: boolean;
  /**
   * moto's fake credentials in process.env while the world lives (default false): a worker in
   * this process builds its SDK clients with the default credential chain, as in production.
   * The endpoint is not put there; it is handed to every client explicitly.
   */
  credentialsInEnv?: boolean;
}

/** SDK clients straight to moto, for seeding and for asserting (never the code under test's). */
export interface AwsTestClients extends SeedClients {
  iam: IAMClient;
  sts: STSClient;
  sqs: SQSClient;
}

/** Where a service of the world works: a findings queue, a queue prefix, an AWS endpoint. */
export interface Placement {
  /** Default: the world's Redis prefix. */
  prefix?: string;
  /** Default: moto's endpoint (give an AWS proxy's to put faults in between). */
  endpoint?: string;
}

export interface World {
  /** The parts asked for; reading one that was not throws. */
  readonly db: TestDatabase;
  readonly redis: TestRedis;
  readonly moto: Moto;
  readonly aws: AwsTestClients;
  /** Creates a findings queue with its dead-letter queue on moto. */
  findingsQueue(name: string, visibilityTimeoutSeconds: number): Promise<{ queueUrl: string; dlqUrl: string }>;
  /** Reading handles on every playbook's BullMQ queue under `prefix` (default: the world's). */
  playbookQueues(prefix?: string): PlaybookQueues;
  ingestEnv(at: Placement & { queueUrl: string; visibilityTimeoutSeconds: number }, overrides?: Record<string, string>): Record<string, string>;
  startIngest(env: Record<string, string>, options?: IngestOptions): Promise<RunningIngest>;
  workerEnv(at?: Placement, overrides?: Record<string, string>): Record<string, string>;
  startWorker(env: Record<string, string>, awsMiddleware?: (clients: AwsClients) => void): Promise<RunningWorker>;
  spawnWorker(env: Record<string, string>): Promise<WorkerProcess>;
  startApi(options: ApiOptions, prefix?: string): Promise<RunningApi>;
  /** Runs `stop` at close(), before everything registered earlier. */
  defer(stop: () => unknown): void;
  close(): Promise<void>;
}

function part<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`this world was created without ${name}`);
  return value;
}

export async function createWorld(options: WorldOptions = {}): Promise<World> {
  const closers: (() => unknown)[] = [];
  const defer = (stop: () => unknown): void => {
    closers.push(stop);
  };
  // Settled, not all: when one fails, the other may have started, and must be stopped here (the
  // caller gets no world to close).
  const [dbStarted, motoStarted] = await Promise.allSettled([
    options.database === false ? undefined : createTestDatabase(),
    options.moto === false ? undefined : startMoto(),
  ]);
  const db = dbStarted.status === "fulfilled" ? dbStarted.value : undefined;
  const moto = motoStarted.status === "fulfilled" ? motoStarted.value : undefined;
  if (dbStarted.status === "rejected" || motoStarted.status === "rejected") {
    await Promise.allSettled([db?.drop(), moto?.stop()]);
    throw dbStarted.status === "rejected" ? dbStarted.reason : (motoStarted as PromiseRejectedResult).reason;
  }
  const redis = options.redis === false ? undefined : createTestRedis();
  defer(() => Promise.allSettled([db?.drop(), redis?.cleanup(), moto?.stop()]));

  let aws: AwsTestClients | undefined;
  if (moto) {
    const env = awsTestEnv(moto.endpoint);
    const config = { region: env.region, endpoint: env.endpoint, credentials: env.credentials };
    const clients: AwsTestClients = {
      ec2: new EC2Client(config),
      autoscaling: new AutoScalingClient(config),
      elbv2: new ElasticLoadBalancingV2Client(config),
      iam: new IAMClient(config),
      sts: new STSClient(config),
      sqs: new SQSClient(config),
    };
    aws = clients;
    defer(() => {
      for (const client of [clients.ec2, clients.autoscaling, clients.elbv2, clients.iam, clients.sts, clients.sqs]) client.destroy();
    });
    if (options.credentialsInEnv) defer(putInProcessEnv(env.env));
  }

  const started = <T extends { stop(): unknown } | { close(): unknown }>(thing: T): T => {
    defer(() => ("stop" in thing ? thing.stop() : thing.close()));
    return thing;
  };
  const world: World = {
    get db() {
      return part(db, "a database");
    },
    get redis() {
      return part(redis, "Redis");
    },
    get moto() {
      return part(moto, "moto");
    },
    get aws() {
      return part(aws, "moto");
    },
    findingsQueue: (name, visibilityTimeoutSeconds) => createFindingsQueue(world.aws.sqs, name, visibilityTimeoutSeconds),
    playbookQueues(prefix = world.redis.prefix) {
      const queues = playbookQueues(world.redis.connection, prefix);
      defer(() => closePlaybookQueues(queues));
      return queues;
    },
    ingestEnv: (at, overrides = {}) =>
      ingestEnv(
        {
          databaseUrl: world.db.url,
          redisUrl: world.redis.url,
          queueUrl: at.queueUrl,
          prefix: at.prefix ?? world.redis.prefix,
          endpoint: at.endpoint ?? world.moto.endpoint,
          visibilityTimeoutSeconds: at.visibilityTimeoutSeconds,
        },
        overrides,
      ),
    startIngest: async (env, ingestOptions) => started(await startIngest(env, ingestOptions)),
    workerEnv: (at = {}, overrides = {}) =>
      workerEnv(
        { databaseUrl: world.db.url, redisUrl: world.redis.url, prefix: at.prefix ?? world.redis.prefix, endpoint: at.endpoint ?? world.moto.endpoint },
        overrides,
      ),
    startWorker: async (env, awsMiddleware) => started(await startWorkerInProcess(env, awsMiddleware)),
    spawnWorker: async (env) => {
      const worker = await spawnWorker(env);
      defer(() => worker.kill());
      return worker;
    },
    startApi: async (apiOptions, prefix = world.redis.prefix) => started(await startApi(world.db, world.redis, prefix, apiOptions)),
    defer,
    async close() {
      // Last started, first closed; one that fails to close does not keep the rest open.
      for (const stop of closers.splice(0).reverse()) {
        try {
          await stop();
        } catch {
          // Closing is best effort, as a test's own afterAll would be.
        }
      }
    },
  };
  return world;
}

/** Sets `env` in process.env; the returned function puts back what was there. */
function putInProcessEnv(env: Record<string, string>): () => void {
  const { AWS_ENDPOINT_URL: _endpoint, ...credentialEnv } = env;
  const previous = Object.fromEntries(Object.keys(credentialEnv).map((key) => [key, process.env[key]]));
  Object.assign(process.env, credentialEnv);
  return () => {
    for (const [key, value] of Object.entries(previous)) {
      if (value === undefined) Reflect.deleteProperty(process.env, key);
      else process.env[key] = value;
    }
  };
}

export { ingestEnv, recordingNotifier, startIngest, type IngestOptions, type IngestSetting, type RecordingNotifier, type RunningIngest } from "./ingest.js";
export { spawnWorker, startWorkerInProcess, workerEnv, type RunningWorker, type WorkerProcess } from "./worker.js";
export type { ServiceSetting } from "./setting.js";
export { startApi, type ApiOptions, type RunningApi } from "./api.js";
export { createLogSink, type LogLine, type LogSink } from "./log-sink.js";
export { ALL_JOB_STATES, closePlaybookQueues, jobCount, jobsIn, playbookQueues, queueOf, type PlaybookQueues } from "./jobs.js";
export { createFindingsQueue, queueDepth, sendBodies, sendBody, sendWhileReceivesHeld, waitForEmptyQueue, type QueueDepth } from "./sqs.js";
