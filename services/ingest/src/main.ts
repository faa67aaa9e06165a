// Composition root of the ingest process: configuration, logger, start-up checks, the service,
// signal handling.
import { SQSClient } from "@aws-sdk/client-sqs";
import { awsClientConfig } from "@gdr/core/aws/client-config";
import { createLogger } from "@gdr/core/log";
import { createMetricsRegistry } from "@gdr/core/metrics";
import { runMain } from "@gdr/core/run-main";
import { createShutdown } from "@gdr/core/shutdown";
import { checkStartup } from "@gdr/core/startup";
import { postgresCheck, redisCheck, sqsQueueCheck } from "@gdr/core/startup-checks";
import { loadIngestConfig } from "./config.js";
import { createIngestService } from "./service.js";

runMain("ingest", async () => {
  const config = loadIngestConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: "ingest" });
  const sqsClient = new SQSClient(awsClientConfig({ region: config.AWS_REGION, endpoint: config.AWS_ENDPOINT_URL }));
  // A dependency that is wrong at start never heals by retrying: exit 2 with one line instead.
  await checkStartup([postgresCheck(config.DATABASE_URL), redisCheck(config.REDIS_URL), sqsQueueCheck(sqsClient, config.SQS_QUEUE_URL)]);
  const shutdown = createShutdown({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  const service = createIngestService(config, { logger, registry: createMetricsRegistry({ service: "ingest" }), sqsClient });
  shutdown.register("ingest", () => service.stop());
  shutdown.installSignalHandlers();
  await service.start();
});
