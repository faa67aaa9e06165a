import type { PauseSwitch } from "@gdr/core/control/pause";
import type { PrismaClient } from "@gdr/core/db/client";
import type { Logger } from "@gdr/core/log";
import { remediationEvent, type Notifier } from "@gdr/core/notify/index";
import { startPeriodic } from "@gdr/core/periodic";
import type { RemediationQueues } from "@gdr/core/queues/queues";
import type { EngineMetrics } from "../metrics.js";
import { lockCandidates } from "./candidates.js";
import { recoverOne, type Recovery } from "./recover.js";
import { findStuck } from "./stuck.js";

export interface ReconcilerOptions {
  intervalMs: number;
  /** Rows that moved within this long are left alone (longer than the job lock). */
  graceMs: number;
  /** Recoveries of one remediation before it is failed. */
  recoveryLimit: number;
  /** Not moving for this long is stuck (and, after the kill switch is resumed, this long since the resume). */
  stuckAfterMs: number;
  /** Rows locked and examined per pass. */
  batch?: number;
}

export interface ReconcilerDeps {
  prisma: PrismaClient;
  /** Producer-side queues on a connection that fails fast while Redis is away. */
  queues: RemediationQueues;
  logger: Logger;
  metrics: Pick<EngineMetrics, "stuck" | "recoveries">;
  notifier: Notifier;
  publicUrl: string;
  /** The kill switch: a deliberate pause stalls every remediation, which is no news to page about. */
  pause: Pick<PauseSwitch, "isPaused">;
}

export interface PassResult {
  recoveries: Recovery[];
  stuck: number;
}

export interface Reconciler {
  /** One pass now (what the timer runs too); passes of one process never overlap. */
  pass(): Promise<PassResult>;
  /** Stops the timer and waits for a pass in progress. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Postgres is the record of truth, BullMQ is transport. Every `intervalMs`, in every worker:
 * remediations that should be moving but have no live job (Redis lost it, BullMQ failed it after
 * an outage or too many stalls, a job finished without settling the row) are re-enqueued to
 * resume at their cursor, or failed past the recovery limit, and people are told; remediations
 * not moving for `stuckAfterMs` are counted (gauge) and announced once per episode. While the
 * kill switch is paused, and for `stuckAfterMs` after it is resumed (the backlog the pause held
 * needs that long to start moving), the gauge still counts but nobody is paged per remediation:
 * the pause stalled them all on purpose. A failing pass is logged and tried again at the next tick.
 */
export function startReconciler(deps: ReconcilerDeps, options: ReconcilerOptions): Reconciler {
  const periodic = startPeriodic(
    options.intervalMs,
    () => runPass(deps, options),
    (err: unknown) => {
      deps.logger.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, "reconcile pass failed; retrying at the next tick");
    },
  );
  return { pass: () => periodic.run(), stop: () => periodic.stop() };
}

async function runPass(deps: ReconcilerDeps, options: ReconcilerOptions): Promise<PassResult> {
  const batch = options.batch ?? 100;
  const recoveries: Recovery[] = [];
  let afterId: string | null = null;
  for (;;) {
    // One transaction per batch holds the row locks while BullMQ is asked and the recovery is
    // added, so another worker's pass skips these rows; it commits the recovery counts and audit
    // events.
    const from: string | null = afterId;
    const { done, last } = await deps.prisma.$transaction(
      async (tx) => {
        const candidates = await lockCandidates(tx, options.graceMs, batch, from);
        const outcomes: Recovery[] = [];
        for (const candidate of candidates) outcomes.push(await recoverOne(tx, deps.queues, candidate, options.recoveryLimit));
        return { done: outcomes, last: candidates.length === batch ? (candidates.at(-1)?.id ?? null) : null };
      },
      { timeout: 60_000, maxWait: 10_000 },
    );
    recoveries.push(...done);
    await report(deps, done);
    if (last === null) break;
    afterId = last;
  }

  const stuck = await findStuck(deps.prisma, options.stuckAfterMs, { claim: !(await heldByPause(deps, options.stuckAfterMs)) });
  for (const [status, n] of Object.entries(stuck.counts)) deps.metrics.stuck.set({ status }, n);
  for (const r of stuck.newlyStuck) {
    const minutes = Math.floor((Date.now() - new Date(r.movedAt).getTime()) / 60_000);
    deps.logger.warn({ remediationId: r.id, status: r.status, movedAt: r.movedAt }, "remediation stuck");
    deps.notifier.notify(remediationEvent("stuck", r, deps.publicUrl, `${r.status} and not moving for ${minutes} min (since ${new Date(r.movedAt).toISOString()})`));
  }
  return { recoveries, stuck: Object.values(stuck.counts).reduce((a, b) => a + b, 0) };
}

/** Paused now, or resumed less than `stuckAfterMs` ago. */
async function heldByPause(deps: ReconcilerDeps, stuckAfterMs: number): Promise<boolean> {
  const state = await deps.pause.isPaused();
  if (state.paused) return true;
  const since = state.since ? Date.parse(state.since) : Number.NaN;
  return Number.isFinite(since) && Date.now() - since < stuckAfterMs;
}

/** After commit: logs, counters, and a `failed` notification for each remediation given up on or unqueueable. */
async function report(deps: ReconcilerDeps, recoveries: readonly Recovery[]): Promise<void> {
  const failed: Extract<Recovery, { kind: "gave_up" | "unqueueable" }>[] = [];
  for (const r of recoveries) {
    if (r.kind === "requeued") {
      deps.metrics.recoveries.inc({ outcome: "requeued" });
      deps.logger.warn({ remediationId: r.id, jobId: r.jobId, action: r.action, why: r.why }, "remediation re-enqueued from Postgres");
    } else if (r.kind === "gave_up") {
      deps.metrics.recoveries.inc({ outcome: "gave_up" });
      deps.logger.error({ remediationId: r.id, why: r.why, error: r.error }, "remediation failed: recovery limit reached");
      failed.push(r);
    } else if (r.kind === "unqueueable") {
      deps.metrics.recoveries.inc({ outcome: "unqueueable" });
      deps.logger.error({ remediationId: r.id, error: r.error }, "remediation failed: its row no longer makes a valid job");
      failed.push(r);
    }
  }
  if (failed.length === 0) return;
  const rows = await deps.prisma.remediation.findMany({ where: { id: { in: failed.map((r) => r.id) } } });
  for (const row of rows) deps.notifier.notify(remediationEvent("failed", row, deps.publicUrl, row.error ?? "recovery limit reached"));
}
