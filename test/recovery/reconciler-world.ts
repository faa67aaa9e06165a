// A reconciler built the way the worker builds it (services/worker/src/service.ts), without the
// rest of a worker: its own Prisma client, a producer Redis connection under a lane's prefix, the
// worker's metrics in a registry of its own, and a notifier to a local Slack webhook receiver.
import { createPauseSwitch, type PauseSwitch } from "@gdr/core/control/pause";
import { createPrisma, type PrismaClient } from "@gdr/core/db/client";
import { createLogger } from "@gdr/core/log";
import { createMetricsRegistry, type Registry } from "@gdr/core/metrics";
import { createNotifier, type FanOutNotifier } from "@gdr/core/notify/index";
import { closeQueues, createQueues, type RemediationQueues } from "@gdr/core/queues/queues";
import { createRedis } from "@gdr/core/queues/redis";
import { createEngineMetrics } from "@gdr/worker/metrics";
import { startReconciler, type Reconciler, type ReconcilerOptions } from "@gdr/worker/reconcile/index";
import { instanceFinding } from "@gdr/samples/findings";
import { waitUntil } from "../support/index.js";
import { ACCOUNT, findingIdOf, outboxOf, remediationForFinding, type EngineWorld, type Lane, type RemediationRow } from "../worker/engine-harness.js";

export const PUBLIC_URL = "https://responder.example.test";

export interface TestReconciler {
  reconciler: Reconciler;
  registry: Registry;
  prisma: PrismaClient;
  queues: RemediationQueues;
  notifier: FanOutNotifier;
  /** The kill switch as the reconciler reads it (the lane's prefix). */
  pause: PauseSwitch;
  close(): Promise<void>;
}

/** Reconciler options as in production, but with no grace period (tests need not wait one out). */
export const TEST_OPTIONS: ReconcilerOptions = { intervalMs: 3_600_000, graceMs: 0, recoveryLimit: 5, stuckAfterMs: 15 * 60_000 };

export function startTestReconciler(world: EngineWorld, lane: Lane, slackUrl?: string, options: Partial<ReconcilerOptions> = {}): TestReconciler {
  const prisma = createPrisma(world.db.url);
  const connection = createRedis(world.redis.url, "producer");
  const queues = createQueues(connection, lane.prefix);
  const registry = createMetricsRegistry({ service: "worker" });
  const logger = createLogger({ level: "silent", name: "reconciler" });
  const notifier = createNotifier(slackUrl ? { slackWebhookUrl: slackUrl } : {}, { logger, registry });
  const pause = createPauseSwitch(connection, { queuePrefix: lane.prefix, prisma, via: "test" });
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

/**
 * Sends findings on instances no worker will act on (the lane has none) and waits until each
 * has its remediation queued and its job dispatched to BullMQ.
 */
export async function queuedRemediations(world: EngineWorld, lane: Lane, n: number): Promise<RemediationRow[]> {
  const details = Array.from({ length: n }, () => instanceFinding({ accountId: ACCOUNT }));
  for (const detail of details) await lane.send(detail);
  const rows: RemediationRow[] = [];
  for (const detail of details) rows.push(await remediationForFinding(world.db, findingIdOf(detail)));
  await waitUntil(async () => {
    for (const r of rows) if ((await outboxOf(world.db, r.id)).some((o) => !o.dispatched)) return false;
    return true;
  }, { what: "every outbox row dispatched" });
  return rows;
}

/** Ends every remediation still open, so the next test's reconciler sees only its own. */
export async function settleLeftovers(world: EngineWorld): Promise<void> {
  await world.db.pool.query(`UPDATE remediations SET status = 'cancelled' WHERE status IN ('queued', 'running', 'awaiting_approval')`);
}

/** The reconciler's audit events of a remediation, oldest first. */
export async function reconcilerEvents(world: EngineWorld, remediationId: string): Promise<{ action: string; detail: Record<string, unknown> }[]> {
  const { rows } = await world.db.pool.query<{ action: string; detail: Record<string, unknown> }>(
    `SELECT action, detail FROM audit_events WHERE remediation_id = $1::uuid AND actor = 'system:reconciler' ORDER BY id`,
    [remediationId],
  );
  return rows;
}

export async function recoveriesOf(world: EngineWorld, remediationId: string): Promise<{ recoveries: number; status: string; error: string | null; stuck_notified_at: Date | null }> {
  const { rows } = await world.db.pool.query<{ recoveries: number; status: string; error: string | null; stuck_notified_at: Date | null }>(
    `SELECT recoveries, status::text AS status, error, stuck_notified_at FROM remediations WHERE id = $1::uuid`,
    [remediationId],
  );
  const row = rows[0];
  if (!row) throw new Error(`no remediation ${remediationId}`);
  return row;
}
