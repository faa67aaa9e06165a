// A reconciler built the way the worker builds it (services/worker/src/service.ts), without the
// rest of a worker: its own Prisma client, a producer Redis connection under a queue prefix, the
// worker's metrics in a registry of its own, and a notifier (to a local Slack webhook receiver).
import { createPauseSwitch, type PauseSwitch } from "@gdr/core/control/pause";
import { createPrisma, type PrismaClient } from "@gdr/core/db/client";
import { createLogger } from "@gdr/core/log";
import { createMetricsRegistry, type Registry } from "@gdr/core/metrics";
import { createNotifier, type FanOutNotifier } from "@gdr/core/notify/index";
import { closeQueues, createQueues, type RemediationQueues } from "@gdr/core/queues/queues";
import { createRedis } from "@gdr/core/queues/redis";
import { createEngineMetrics } from "@gdr/worker/metrics";
import { startReconciler, type Reconciler, type ReconcilerOptions } from "@gdr/worker/reconcile/index";

export const PUBLIC_URL = "https://responder.example.test";

/** Reconciler options as in production, but with no grace period (tests need not wait one out). */
export const TEST_OPTIONS: ReconcilerOptions = { intervalMs: 3_600_000, graceMs: 0, recoveryLimit: 5, stuckAfterMs: 15 * 60_000 };

export interface TestReconciler {
  reconciler: Reconciler;
  registry: Registry;
  prisma: PrismaClient;
  queues: RemediationQueues;
  notifier: FanOutNotifier;
  /** The kill switch as the reconciler reads it (its prefix). */
  pause: PauseSwitch;
  close(): Promise<void>;
}

export interface ReconcilerSetting {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  /** A Slack webhook to notify (none: nothing is delivered). */
  slackUrl?: string | undefined;
}

export function startTestReconciler(setting: ReconcilerSetting, options: Partial<ReconcilerOptions> = {}): TestReconciler {
  const prisma = createPrisma(setting.databaseUrl);
  const connection = createRedis(setting.redisUrl, "producer");
  const queues = createQueues(connection, setting.prefix);
  const registry = createMetricsRegistry({ service: "worker" });
  const logger = createLogger({ level: "silent", name: "reconciler" });
  const notifier = createNotifier(setting.slackUrl ? { slackWebhookUrl: setting.slackUrl } : {}, { logger, registry });
  const pause = createPauseSwitch(connection, { queuePrefix: setting.prefix, prisma, via: "test" });
  const reconciler = startReconciler(
    { prisma, queues, logger, metrics: createEngineMetrics(registry), notifier, publicUrl: PUBLIC_URL, pause },
    { ...TEST_OPTIONS, ...options },
  );
  return {
    reconciler,
    registry,
    prisma,
    queues,
    notifier,
    pause,
    async close() {
      await reconciler.stop();
      await notifier.drain(5_000);
      await closeQueues(queues);
      connection.disconnect();
      await prisma.$disconnect();
    },
  };
}
