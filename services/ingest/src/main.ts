// Composition root of the ingest process: configuration, logger, the service, signal handling.
import { createLogger } from "@gdr/core/log";
import { createMetricsRegistry } from "@gdr/core/metrics";
import { runMain } from "@gdr/core/run-main";
import { createShutdown } from "@gdr/core/shutdown";
import { loadIngestConfig } from "./config.js";
import { createIngestService } from "./service.js";

runMain("ingest", async () => {
  const config = loadIngestConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: "ingest" });
  const shutdown = createShutdown({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  const service = createIngestService(config, { logger, registry: createMetricsRegistry({ service: "ingest" }) });
  shutdown.register("ingest", () => service.stop());
  shutdown.installSignalHandlers();
  await service.start();
});
