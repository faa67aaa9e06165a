import { loadApiConfig } from "@gdr/api/config";
import { createApiServer, type ApiServer } from "@gdr/api/server";
import type { PrismaClient } from "@gdr/core/db/client";
import { createLogger } from "@gdr/core/log";
import { createMetricsRegistry } from "@gdr/core/metrics";
import { checkStartup } from "@gdr/core/startup";
import { postgresCheck, redisCheck } from "@gdr/core/startup-checks";
import { loadIngestConfig } from "@gdr/ingest/config";
import { createIngestService, type IngestService } from "@gdr/ingest/service";
import { loadWorkerConfig } from "@gdr/worker/config";
import { createWorkerService, type WorkerService } from "@gdr/worker/service";

export interface DemoServices {
  ingest: IngestService;
  worker: WorkerService;
  api: ApiServer;
  /** Ingest's connection to the audit store, for the demo's own queries. */
  prisma: PrismaClient;
  start(): Promise<void>;
  /** API first, then the worker, then ingest, as `npm start` does; safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * The three services `npm start` runs, composed the same way (services/all/src/main.ts), in this
 * process. Their probe and API ports default to 0 (any free port) so that a service already
 * running on this machine does not stop the demo; API_PORT fixes the API's.
 */
export async function createDemoServices(env: NodeJS.ProcessEnv, workerAccountId: string): Promise<DemoServices> {
  const ingestConfig = loadIngestConfig({ ...env, INGEST_HTTP_PORT: "0" });
  // moto has no GuardDuty GetFindings, so the demo cannot confirm its findings with GuardDuty:
  // the check is off here (allowed only with AWS_ENDPOINT_URL set), and main.ts says so.
  const workerConfig = loadWorkerConfig({ ...env, WORKER_HTTP_PORT: "0", WORKER_ACCOUNT_ID: workerAccountId, WORKER_CONFIRM_FINDINGS: "false" });
  const apiConfig = loadApiConfig({ ...env, API_HOST: "127.0.0.1", API_PORT: env["API_PORT"] ?? "0" });
  const logger = createLogger({ level: ingestConfig.LOG_LEVEL, name: "demo" });
  // As npm start does: a wrong DATABASE_URL or REDIS_URL stops the demo with one line, not a hang.
  await checkStartup([postgresCheck(ingestConfig.DATABASE_URL), redisCheck(ingestConfig.REDIS_URL)]);
  // The API first: it is the one built asynchronously, so if building it fails no other service
  // holds connections open that would keep the process alive.
  const api = await createApiServer(apiConfig, logger);
  const ingest = createIngestService(ingestConfig, { logger, registry: createMetricsRegistry({ service: "ingest" }) });
  const worker = createWorkerService(workerConfig, { logger, registry: createMetricsRegistry({ service: "worker" }) });
  return {
    ingest,
    worker,
    api,
    prisma: ingest.prisma,
    async start() {
      await ingest.start();
      await worker.start();
      await api.start();
    },
    // Each service's stop also closes the connections it opened when created, started or not.
    async stop() {
      await api.stop();
      await worker.stop();
      await ingest.stop();
    },
  };
}
