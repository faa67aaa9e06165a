// `npm start`: every service in one process, the small-deployment and demo default. Each service
// keeps its own configuration schema; all read the same environment. Shutdown runs in reverse:
// worker first (finish or hand back jobs), then ingest (finish its batches).
import { createLogger } from "@gdr/core/log";
import { createMetricsRegistry } from "@gdr/core/metrics";
import { runMain } from "@gdr/core/run-main";
import { createShutdown } from "@gdr/core/shutdown";
import { loadIngestConfig } from "@gdr/ingest/config";
import { createIngestService } from "@gdr/ingest/service";
import { loadWorkerConfig } from "@gdr/worker/config";
import { createWorkerService } from "@gdr/worker/service";

runMain("guardduty-responder", async () => {
  const ingestConfig = loadIngestConfig();
  const workerConfig = loadWorkerConfig();
  const logger = createLogger({ level: ingestConfig.LOG_LEVEL, name: "guardduty-responder" });
  const shutdown = createShutdown({ logger, timeoutMs: ingestConfig.SHUTDOWN_TIMEOUT_MS + 5_000 });
  const registry = createMetricsRegistry({ service: "all" });

  const ingest = createIngestService(ingestConfig, { logger: logger.child({ service: "ingest" }), registry });
  const worker = createWorkerService(workerConfig, { logger: logger.child({ service: "worker" }), registry: createMetricsRegistry({ service: "worker" }) });
  shutdown.register("ingest", () => ingest.stop());
  shutdown.register("worker", () => worker.stop());
  shutdown.installSignalHandlers();
  await ingest.start();
  await worker.start();
  // The REST API and approval page join this process with the control plane release.
});
