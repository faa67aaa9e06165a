// Composition root of the API process: configuration, logger, the server, signal handling.
import { createLogger } from "@gdr/core/log";
import { runMain } from "@gdr/core/run-main";
import { createShutdown } from "@gdr/core/shutdown";
import { loadApiConfig } from "./config.js";
import { createApiServer } from "./server.js";

runMain("api", async () => {
  const config = loadApiConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: "api" });
  const shutdown = createShutdown({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  const server = await createApiServer(config, logger);
  shutdown.register("api", () => server.stop());
  shutdown.installSignalHandlers();
  await server.start();
});
