import type { PrismaClient } from "@gdr/core/db/client";
import type { NotifiedRemediation } from "@gdr/core/notify/index";
import { MOVED_AT, MOVING, SHOULD_MOVE } from "./candidates.js";

/** How a stuck remediation is labelled: approved means awaiting_approval with its plan approved. */
export type StuckStatus = (typeof MOVING)[number] | "approved";

export interface StuckReport {
  /** How many are stuck now, by status (every status present, zero included). */
  counts: Record<StuckStatus, number>;
  /** Stuck remediations nobody was told about yet in this episode (now marked as told). */
  newlyStuck: (NotifiedRemediation & { status: StuckStatus; movedAt: Date })[];
}

/**
 * Finds remediations that should be moving and have not moved for `afterMs`, and marks those
 * nobody was told about yet (`stuck_notified_at`, claimed with a conditional UPDATE, so with
 * several workers each episode is announced once). An episode ends when the remediation moves
 * again or settles: its mark is cleared and a later stall is a new episode. With `claim` false,
 * only the counts are read and nothing is marked.
 */
export async function findStuck(prisma: PrismaClient, afterMs: number, options: { claim: boolean } = { claim: true }): Promise<StuckReport> {
  await prisma.$executeRawUnsafe(
    `UPDATE remediations r SET stuck_notified_at = NULL
      WHERE r.stuck_notified_at IS NOT NULL AND (NOT ${SHOULD_MOVE} OR ${MOVED_AT} > r.stuck_notified_at)`,
  );
  const rows = await prisma.$queryRawUnsafe<{ status: StuckStatus; n: number }[]>(
    `SELECT CASE WHEN r.status = 'awaiting_approval' THEN 'approved' ELSE r.status::text END AS status, count(*)::int AS n
       FROM remediations r
      WHERE ${SHOULD_MOVE} AND ${MOVED_AT} < now() - make_interval(secs => $1::double precision / 1000)
      GROUP BY 1`,
    afterMs,
  );
  const counts: Record<StuckStatus, number> = { queued: 0, running: 0, approved: 0 };
  for (const row of rows) counts[row.status] = row.n;
  // Not claimed: nobody is told, and the episode stays unannounced until a pass that claims it.
  if (!options.claim) return { counts, newlyStuck: [] };
  const newlyStuck = await prisma.$queryRawUnsafe<StuckReport["newlyStuck"]>(
    `UPDATE remediations r SET stuck_notified_at = now()
      WHERE r.stuck_notified_at IS NULL AND ${SHOULD_MOVE}
        AND ${MOVED_AT} < now() - make_interval(secs => $1::double precision / 1000)
  RETURNING r.id::text AS id, r.finding_id AS "findingId", r.playbook, r.resource_key AS "resourceKey", r.account_id AS "accountId",
            r.region, r.mode::text AS mode,
            CASE WHEN r.status = 'awaiting_approval' THEN 'approved' ELSE r.status::text END AS status,
            ${MOVED_AT} AS "movedAt"`,
    afterMs,
  );
  return { counts, newlyStuck };
}
