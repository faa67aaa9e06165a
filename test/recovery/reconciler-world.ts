// The reconciler tests' world: an engine world's lane (test/worker/engine-harness.ts) with a
// reconciler built as the worker builds it (test/support/world/reconciler.ts) on the lane's prefix.
import type { ReconcilerOptions } from "@gdr/worker/reconcile/index";
import { instanceFinding } from "@gdr/samples/findings";
import { auditRows, remediationRow, waitUntil, type AuditRow, type RemediationRow } from "../support/index.js";
import { startTestReconciler as startReconcilerAt, type TestReconciler } from "../support/world/reconciler.js";
import { ACCOUNT, findingIdOf, outboxOf, remediationForFinding, type EngineWorld, type Lane } from "../worker/engine-harness.js";

export { PUBLIC_URL, TEST_OPTIONS, type TestReconciler } from "../support/world/reconciler.js";

export function startTestReconciler(world: EngineWorld, lane: Lane, slackUrl?: string, options: Partial<ReconcilerOptions> = {}): TestReconciler {
  return startReconcilerAt({ databaseUrl: world.db.url, redisUrl: world.redis.url, prefix: lane.prefix, slackUrl }, options);
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
export function reconcilerEvents(world: EngineWorld, remediationId: string): Promise<AuditRow[]> {
  return auditRows(world.db, { remediationId, actor: "system:reconciler" });
}

/** The remediation's row, for its recovery count, status, error and stuck notice. */
export function recoveriesOf(world: EngineWorld, remediationId: string): Promise<RemediationRow> {
  return remediationRow(world.db, remediationId);
}
