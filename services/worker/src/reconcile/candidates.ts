import { CONTAINED_SQL } from "@gdr/core/approvals/contained";
import { RemediationStatus, type Prisma } from "@gdr/core/db/client";
import type { RemediationJobSource } from "@gdr/core/queues/remediation-job";

/** Statuses in which a remediation should be moving by itself (awaiting_approval: once approved). */
export const MOVING = [RemediationStatus.queued, RemediationStatus.running] as const;
type Moving = (typeof MOVING)[number] | typeof RemediationStatus.awaiting_approval;

/**
 * `r.status IN (...)` for these statuses, built from the typed list so that a typo cannot hide a
 * status. Inlined, not bound: the values are the enum's own names, never input.
 */
export function statusIn(statuses: readonly RemediationStatus[]): string {
  return `r.status IN (${statuses.map((s) => `'${s}'`).join(", ")})`;
}

/** A remediation that should be moving and that nothing touched within the grace period. */
export interface Candidate extends RemediationJobSource {
  status: Moving;
  job_id: string;
  plan: unknown;
  recoveries: number;
  /** The current plan has an approved decision (a continuation or release is owed). */
  approved: boolean;
  /**
   * Its playbook's containment steps are done, contained_at set or, for a remediation an older
   * worker isolated during a rolling deploy, its isolate step done (core's CONTAINED_SQL); a
   * recovery carries on with the evidence steps.
   */
  contained: boolean;
  outbox_job_ids: string[];
}

/**
 * When a remediation last moved: its row, any of its steps starting or finishing (the engine
 * writes steps, not the remediation row, while it works through a playbook), or the approval of
 * its current plan (an approval writes an approvals row, not the remediation row: a plan frozen
 * long before it was approved has only just become owed its job).
 */
export const MOVED_AT = `GREATEST(r.updated_at,
  (SELECT max(GREATEST(s.started_at, s.finished_at)) FROM remediation_steps s WHERE s.remediation_id = r.id),
  (SELECT max(a.decided_at) FROM approvals a WHERE a.remediation_id = r.id AND a.plan_hash = r.plan_hash AND a.decision = 'approved'))`;

/** The current plan of an `awaiting_approval` remediation was approved: its job is owed. */
export const APPROVED = `EXISTS (SELECT 1 FROM approvals a WHERE a.remediation_id = r.id AND a.plan_hash = r.plan_hash AND a.decision = 'approved')`;

/** Should be moving: queued, running, or approved and owed the job that carries the approval out. */
export const SHOULD_MOVE = `(${statusIn(MOVING)} OR (r.status = '${RemediationStatus.awaiting_approval}' AND ${APPROVED}))`;

/**
 * Locks (FOR UPDATE SKIP LOCKED) up to `limit` remediations, in id order after `afterId` (a pass
 * pages through all of them, so a backlog of live ones never hides the rest), that should be moving (queued,
 * running, or approved and awaiting the job that carries the approval out) and have not moved
 * within `graceMs`. Rows with an outbox entry not yet dispatched are the outbox relay's. Several
 * workers reconciling at once never take the same row: each skips the others' locks, and a row
 * another worker recovered has moved (its updated_at), so it is past the grace filter.
 */
export async function lockCandidates(tx: Prisma.TransactionClient, graceMs: number, limit: number, afterId: string | null): Promise<Candidate[]> {
  return tx.$queryRawUnsafe<Candidate[]>(
    `SELECT r.id::text AS id, r.status::text AS status, r.finding_id AS "findingId", r.playbook, r.resource_key AS "resourceKey",
            r.account_id AS "accountId", r.region, r.mode::text AS mode, r.job_id, r.plan, r.recoveries,
            ${APPROVED} AS approved,
            ${CONTAINED_SQL} AS contained,
            ARRAY(SELECT o.job_id FROM outbox o WHERE o.remediation_id = r.id ORDER BY o.id) AS outbox_job_ids
       FROM remediations r
      WHERE ${SHOULD_MOVE}
        AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.remediation_id = r.id AND o.dispatched_at IS NULL)
        AND ${MOVED_AT} < now() - make_interval(secs => $1::double precision / 1000)
        AND ($3::uuid IS NULL OR r.id > $3::uuid)
      ORDER BY r.id
      LIMIT $2
      FOR UPDATE OF r SKIP LOCKED`,
    graceMs,
    limit,
    afterId,
  );
}
