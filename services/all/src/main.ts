// `npm start`: every service in one process, the small-deployment and demo default. Each service
// keeps its own configuration schema; all read the same environment. Shutdown runs in reverse:
// API first, then the worker (finish or hand back jobs), then ingest (finish its batches).
import { SQSClient } from "@aws-sdk/client-sqs";
import { awsClientConfig } from "@gdr/core/aws/client-config";
import { createLogger } from "@gdr/core/log";
import { createMetricsRegistry } from "@gdr/core/metrics";
import { runMain } from "@gdr/core/run-main";
import { createShutdown } from "@gdr/core/shutdown";
import { checkStartup } from "@gdr/core/startup";
import { postgresCheck, redisCheck, sqsQueueCheck } from "@gdr/core/startup-checks";
import { loadApiConfig } from "@gdr/api/config";
import { createApiServer } from "@gdr/api/server";
import { loadIngestConfig } from "@gdr/ingest/config";
import { createIngestService } from "@gdr/ingest/service";
import { loadWorkerConfig } from "@gdr/worker/config";
import { createWorkerService } from "@gdr/worker/service";

runMain("guardduty-responder", async () => {
  const ingestConfig = loadIngestConfig();
  const workerConfig = loadWorkerConfig();
  const apiConfig = loadApiConfig();
  const logger = createLogger({ level: ingestConfig.LOG_LEVEL, name: "guardduty-responder" });
  const sqsClient = new SQSClient(awsClientConfig({ region: ingestConfig.AWS_REGION, endpoint: ingestConfig.AWS_ENDPOINT_URL }));
  // A dependency that is wrong at start never heals by retrying: exit 2 with one line instead.
  // The three services read the same environment, so one check per dependency covers them all.
  await checkStartup([
    postgresCheck(ingestConfig.DATABASE_URL),
    redisCheck(ingestConfig.REDIS_URL),
    sqsQueueCheck(sqsClient, ingestConfig.SQS_QUEUE_URL),
  ]);
  const shutdown = createShutdown({ logger, timeoutMs: ingestConfig.SHUTDOWN_TIMEOUT_MS + 5_000 });
  const registry = createMetricsRegistry({ service: "all" });

  const ingest = createIngestService(ingestConfig, { logger: logger.child({ service: "ingest" }), registry, sqsClient });
  const worker = createWorkerService(workerConfig, { logger: logger.child({ service: "worker" }), registry: createMetricsRegistry({ service: "worker" }) });
  shutdown.register("ingest", () => ingest.stop());
  shutdown.register("worker", () => worker.stop());
  const api = await createApiServer(apiConfig, logger.child({ service: "api" }));
  shutdown.register("api", () => api.stop());
  shutdown.installSignalHandlers();
  await ingest.start();
  await worker.start();
  await api.start();
});
