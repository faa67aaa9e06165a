import { createPauseSwitch } from "@gdr/core/control/pause";
import { createPrisma } from "@gdr/core/db/client";
import { pingPostgres, pingRedis } from "@gdr/core/db/ping";
import type { Logger } from "@gdr/core/log";
import { createMetricsRegistry } from "@gdr/core/metrics";
import { createNotifier } from "@gdr/core/notify/index";
import { loadPolicyFile } from "@gdr/core/policy/index";
import { closeQueues, createQueues } from "@gdr/core/queues/queues";
import { createRedis } from "@gdr/core/queues/redis";
import { buildApp } from "./app.js";
import type { ApiConfig } from "./config.js";

export interface ApiServer {
  start(): Promise<void>;
  stop(): Promise<void>;
  port(): number;
}

/** Builds the API from its configuration and listens; stop closes it and its connections. */
export async function createApiServer(config: Readonly<ApiConfig>, logger: Logger): Promise<ApiServer> {
  const prisma = createPrisma(config.DATABASE_URL);
  const redis = createRedis(config.REDIS_URL, "producer");
  redis.on("error", (err: Error) => {
    logger.warn({ err: { message: err.message } }, "redis connection error");
  });
  const queues = createQueues(redis, config.QUEUE_PREFIX);
  // One registry for /metrics: the queue gauges and the notifier's delivery counter.
  const registry = createMetricsRegistry({ service: "api" });
  const notifier = createNotifier(
    { slackWebhookUrl: config.NOTIFY_SLACK_WEBHOOK_URL, snsTopicArn: config.NOTIFY_SNS_TOPIC_ARN, awsEndpoint: config.AWS_ENDPOINT_URL },
    { logger, registry },
  );
  const app = await buildApp(
    {
      prisma,
      queues,
      pause: createPauseSwitch(redis, { queuePrefix: config.QUEUE_PREFIX, prisma, via: "api" }),
      policy: loadPolicyFile(config.POLICY_FILE),
      logger,
      notifier,
      publicUrl: config.PUBLIC_URL,
      registry,
      checks: { postgres: () => pingPostgres(prisma), redis: () => pingRedis(redis) },
    },
    {
      bodyLimit: config.API_BODY_LIMIT_BYTES,
      rateLimitPerMinute: config.API_RATE_LIMIT_PER_MINUTE,
      tokenRateLimitPerMinute: config.API_TOKEN_RATE_LIMIT_PER_MINUTE,
      trustProxy: config.API_TRUST_PROXY,
      fourEyes: config.API_FOUR_EYES,
    },
  );
  let stopped: Promise<void> | undefined;
  const port = (): number => {
    const address = app.server.address();
    return typeof address === "object" && address ? address.port : config.API_PORT;
  };
  return {
    port,
    async start() {
      await app.listen({ host: config.API_HOST, port: config.API_PORT });
      logger.info({ port: port() }, "api started");
    },
    stop() {
      stopped ??= (async () => {
        await app.close();
        // Refusals notified just before the stop still go out (bounded: the notifier's deadline).
        await notifier.drain();
        await closeQueues(queues);
        redis.disconnect();
        await prisma.$disconnect();
        logger.info("api stopped");
      })();
      return stopped;
    },
  };
}
