// Composition root of the API process: configuration, logger, start-up checks, the server,
// signal handling.
import { createLogger } from "@gdr/core/log";
import { runMain } from "@gdr/core/run-main";
import { createShutdown } from "@gdr/core/shutdown";
import { checkStartup } from "@gdr/core/startup";
import { postgresCheck, redisCheck } from "@gdr/core/startup-checks";
import { loadApiConfig } from "./config.js";
import { createApiServer } from "./server.js";

runMain("api", async () => {
  const config = loadApiConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: "api" });
  // A dependency that is wrong at start never heals by retrying: exit 2 with one line instead.
  await checkStartup([postgresCheck(config.DATABASE_URL), redisCheck(config.REDIS_URL)]);
  const shutdown = createShutdown({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  const server = await createApiServer(config, logger);
  shutdown.register("api", () => server.stop());
  shutdown.installSignalHandlers();
  await server.start();
});
