// `npm start`: every service in one process, the small-deployment and demo default. Each service
// keeps its own configuration schema; all read the same environment.
import { createLogger } from "@gdr/core/log";
import { createMetricsRegistry } from "@gdr/core/metrics";
import { runMain } from "@gdr/core/run-main";
import { createShutdown } from "@gdr/core/shutdown";
import { loadIngestConfig } from "@gdr/ingest/config";
import { createIngestService } from "@gdr/ingest/service";

runMain("guardduty-responder", async () => {
  const ingestConfig = loadIngestConfig();
  const logger = createLogger({ level: ingestConfig.LOG_LEVEL, name: "guardduty-responder" });
  const shutdown = createShutdown({ logger, timeoutMs: ingestConfig.SHUTDOWN_TIMEOUT_MS });
  const registry = createMetricsRegistry({ service: "all" });

  const ingest = createIngestService(ingestConfig, { logger: logger.child({ service: "ingest" }), registry });
  shutdown.register("ingest", () => ingest.stop());
  shutdown.installSignalHandlers();
  await ingest.start();
  // The worker (playbooks) and the API join this process as they are built; until then
  // remediation jobs wait in their BullMQ queues with status `queued` in Postgres.
  logger.warn("worker and api are not part of this release yet: remediations stay queued");
});
