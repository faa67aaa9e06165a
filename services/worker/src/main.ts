// Composition root of the worker process: configuration, logger, start-up checks, the service,
// signal handling.
import { createLogger } from "@gdr/core/log";
import { createMetricsRegistry } from "@gdr/core/metrics";
import { runMain } from "@gdr/core/run-main";
import { createShutdown } from "@gdr/core/shutdown";
import { checkStartup } from "@gdr/core/startup";
import { postgresCheck, redisCheck } from "@gdr/core/startup-checks";
import { loadWorkerConfig } from "./config.js";
import { createWorkerService } from "./service.js";

runMain("worker", async () => {
  const config = loadWorkerConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: "worker" });
  // A dependency that is wrong at start never heals by retrying: exit 2 with one line instead.
  await checkStartup([postgresCheck(config.DATABASE_URL), redisCheck(config.REDIS_URL)]);
  // The registry's deadline is the outer one; the worker hands jobs back a little before it.
  const shutdown = createShutdown({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS + 5_000 });
  const service = createWorkerService(config, { logger, registry: createMetricsRegistry({ service: "worker" }) });
  shutdown.register("worker", () => service.stop());
  shutdown.installSignalHandlers();
  await service.start();
});
