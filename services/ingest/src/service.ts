import { SQSClient } from "@aws-sdk/client-sqs";
import { awsClientConfig } from "@gdr/core/aws/client-config";
import { createPrisma, type PrismaClient } from "@gdr/core/db/client";
import { pingPostgres, pingRedis } from "@gdr/core/db/ping";
import { DEFAULT_PARSE_OPTIONS } from "@gdr/core/findings/index";
import { createProbeServer } from "@gdr/core/http/probes";
import type { Logger } from "@gdr/core/log";
import type { Registry } from "@gdr/core/metrics";
import { createNotifier, type FanOutNotifier } from "@gdr/core/notify/index";
import { loadPolicyFile, route, type Policy } from "@gdr/core/policy/index";
import { closeQueues, createQueues } from "@gdr/core/queues/queues";
import { createRedis } from "@gdr/core/queues/redis";
import type { Redis } from "ioredis";
import { sleep } from "./backoff.js";
import { createBatchProcessor } from "./batch.js";
import type { IngestConfig } from "./config.js";
import { createIngestMetrics } from "./metrics.js";
import { createOutboxRelay } from "./outbox.js";
import { runPoller } from "./poller.js";
import { createSqsGateway } from "./sqs.js";

export interface IngestService {
  /** Starts the pollers, the outbox relay and the probe server; resolves once listening. */
  start(): Promise<void>;
  /** Stops polling, finishes batches in flight, then closes every connection. Idempotent. */
  stop(): Promise<void>;
  /** The probe server's port (useful with INGEST_HTTP_PORT=0). */
  port(): number;
  readonly prisma: PrismaClient;
}

export interface IngestServiceDeps {
  logger: Logger;
  registry: Registry;
  /** Overrides for tests: an SQS client wired to an emulator or a proxy. */
  sqsClient?: SQSClient;
  policy?: Policy;
  /** Tests: a notifier that records what it is told. Default: the configured channels. */
  notifier?: FanOutNotifier;
}

/** Builds the ingest path from its configuration: one place that knows how the parts connect. */
export function createIngestService(config: Readonly<IngestConfig>, deps: IngestServiceDeps): IngestService {
  const logger = deps.logger;
  const policy = deps.policy ?? loadPolicyFile(config.POLICY_FILE);
  const prisma = createPrisma(config.DATABASE_URL, { poolSize: config.INGEST_POLLERS + 4 });
  const redis: Redis = createRedis(config.REDIS_URL, "producer");
  // ioredis emits connection errors as events; log them instead of crashing on an unhandled one.
  redis.on("error", (err: Error) => {
    logger.warn({ err: { message: err.message } }, "redis connection error");
  });
  const queues = createQueues(redis, config.QUEUE_PREFIX);
  const sqsClient =
    deps.sqsClient ?? new SQSClient(awsClientConfig({ region: config.AWS_REGION, endpoint: config.AWS_ENDPOINT_URL }));
  const sqs = createSqsGateway(sqsClient, config.SQS_QUEUE_URL);
  const metrics = createIngestMetrics(deps.registry);
  const notifier =
    deps.notifier ??
    createNotifier(
      { slackWebhookUrl: config.NOTIFY_SLACK_WEBHOOK_URL, snsTopicArn: config.NOTIFY_SNS_TOPIC_ARN, awsEndpoint: config.AWS_ENDPOINT_URL },
      { logger, registry: deps.registry },
    );
  const relay = createOutboxRelay({ prisma, queues, logger, metrics, notifier, publicUrl: config.PUBLIC_URL });
  const processBatch = createBatchProcessor({
    prisma,
    sqs,
    relay,
    route: (finding) => route(finding, policy),
    parseOptions: { ...DEFAULT_PARSE_OPTIONS, maxBytes: config.INGEST_MAX_BODY_BYTES },
    logger,
    metrics,
    notifier,
    publicUrl: config.PUBLIC_URL,
  });

  const stopController = new AbortController();
  let loops: Promise<void>[] = [];
  let stopped: Promise<void> | undefined;

  const http = createProbeServer({
    logger,
    registry: deps.registry,
    alive: () => !stopController.signal.aborted,
    checks: {
      postgres: () => pingPostgres(prisma),
      redis: () => pingRedis(redis),
      sqs: (signal) => sqs.check(signal),
    },
  });

  async function relayLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await relay.dispatchStale(config.INGEST_OUTBOX_INTERVAL_MS);
        await relay.measure();
      } catch (err) {
        logger.warn({ err: err instanceof Error ? err.message : err }, "outbox relay pass failed; will retry");
      }
      await sleep(config.INGEST_OUTBOX_INTERVAL_MS, signal);
    }
  }

  return {
    prisma,
    async start() {
      const signal = stopController.signal;
      const pollerDeps = {
        sqs,
        processBatch,
        checkDependencies: async () => {
          await pingPostgres(prisma);
          await pingRedis(redis);
        },
        batchSize: config.INGEST_BATCH_SIZE,
        waitTimeSeconds: config.INGEST_WAIT_TIME_SECONDS,
        visibilityTimeout: config.INGEST_VISIBILITY_TIMEOUT,
        metrics,
      };
      loops = Array.from({ length: config.INGEST_POLLERS }, (_, i) =>
        runPoller({ ...pollerDeps, logger: logger.child({ poller: i }) }, signal),
      );
      loops.push(relayLoop(signal));
      await http.listen({ host: config.INGEST_HTTP_HOST, port: config.INGEST_HTTP_PORT });
      logger.info({ pollers: config.INGEST_POLLERS, queueUrl: config.SQS_QUEUE_URL, port: this.port() }, "ingest started");
    },

    stop() {
      stopped ??= (async () => {
        stopController.abort();
        // Pollers finish the batch they hold before their loop returns.
        await Promise.all(loops);
        await http.close();
        // Notices of the last batches go out (bounded) before the process lets go.
        await notifier.drain(5_000);
        await closeQueues(queues);
        redis.disconnect();
        await prisma.$disconnect();
        sqsClient.destroy();
        logger.info("ingest stopped");
      })();
      return stopped;
    },

    port() {
      const address = http.server.address();
      return typeof address === "object" && address ? address.port : config.INGEST_HTTP_PORT;
    },
  };
}
