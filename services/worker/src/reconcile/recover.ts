import { planAction } from "@gdr/core/approvals/plan-fields";
import { RemediationStatus, type Prisma } from "@gdr/core/db/client";
import { jobOptions, QUEUE_CATALOG, remediationJobSchema, type RemediationJob } from "@gdr/core/queues/catalog";
import { z } from "zod";
import { remediationJobInput } from "@gdr/core/queues/remediation-job";
import { queueFor, type RemediationQueues } from "@gdr/core/queues/queues";
import type { Candidate } from "./candidates.js";
import { isLive, knownJobIds, recoveryJobId, sightJobs, type JobSighting } from "./job-ids.js";

/** Who the audit trail names for what the reconciler does. */
export const RECONCILER_ACTOR = "system:reconciler";

export type Recovery =
  | { kind: "alive"; id: string }
  | { kind: "requeued"; id: string; jobId: string; action: RemediationJob["action"]; why: LostHow }
  | { kind: "gave_up"; id: string; why: LostHow; error: string }
  /** Its row no longer makes a valid job payload (an identifier fails its pattern): failed, nothing queued. */
  | { kind: "unqueueable"; id: string; error: string };

/** How the remediation's job went: none left in BullMQ, failed there, or finished without settling it. */
export type LostHow = "lost" | "failed" | "finished";

/**
 * Recovers one locked candidate (inside the reconciler's transaction): leaves it if a job that
 * may carry it is still live; otherwise re-enqueues it to resume at its cursor (the engine starts
 * at the first unfinished step) under a fresh recovery job id, counting the recovery, or, past
 * `limit` recoveries, marks it failed with the reason. Either is an audit event.
 */
export async function recoverOne(tx: Prisma.TransactionClient, queues: RemediationQueues, c: Candidate, limit: number): Promise<Recovery> {
  // Validated here, not thrown: one row that no longer makes a valid payload would otherwise roll
  // back the whole batch's transaction, every pass, and hold back every other recovery with it.
  const parsed = remediationJobSchema.safeParse(remediationJobInput(c, recoveryAction(c)));
  if (!parsed.success) return failUnqueueable(tx, c, z.prettifyError(parsed.error).replace(/\s*\n\s*/g, "; "));
  const job = parsed.data;
  const queue = queueFor(queues, job.playbook);
  const sightings = await sightJobs(queue, knownJobIds(c.job_id, c.outbox_job_ids, c.recoveries));
  if (sightings.some(isLive)) return { kind: "alive", id: c.id };
  const why = lostHow(sightings);
  const jobs = sightings.map((s) => ({ id: s.id, state: s.state, ...(s.failedReason ? { failedReason: s.failedReason } : {}) }));

  if (c.recoveries >= limit) {
    const lastFailure = sightings.find((s) => s.failedReason)?.failedReason;
    const error = `recovery limit reached: its job was ${why} ${c.recoveries + 1} times${lastFailure ? ` (last: ${lastFailure})` : ""}; retry it once the cause is fixed`.slice(0, 1_000);
    await tx.$executeRaw`
      UPDATE remediations SET status = 'failed', error = ${error}, finished_at = now(), updated_at = now()
       WHERE id = ${c.id}::uuid`;
    await tx.auditEvent.create({
      data: { actor: RECONCILER_ACTOR, action: "remediation.recovery_exhausted", findingId: c.findingId, remediationId: c.id, detail: { was: c.status, why, recoveries: c.recoveries, limit, jobs } },
    });
    return { kind: "gave_up", id: c.id, why, error };
  }

  const n = c.recoveries + 1;
  const jobId = recoveryJobId(c.job_id, n);
  // Added by an earlier pass whose transaction then failed, and no longer live: BullMQ would take
  // a re-add of its id for a duplicate and do nothing.
  if (sightings.some((s) => s.id === jobId)) await queue.remove(jobId);
  await queue.add(job.playbook, job, jobOptions(QUEUE_CATALOG[job.playbook], jobId, job.action));
  await tx.$executeRaw`UPDATE remediations SET recoveries = ${n}, updated_at = now() WHERE id = ${c.id}::uuid`;
  await tx.auditEvent.create({
    data: {
      actor: RECONCILER_ACTOR,
      action: "remediation.requeued",
      findingId: c.findingId,
      remediationId: c.id,
      detail: { status: c.status, why, jobId, action: job.action, recovery: n, jobs },
    },
  });
  return { kind: "requeued", id: c.id, jobId, action: job.action, why };
}

/**
 * Fails a remediation whose row cannot make a job payload, with the reason and an audit event
 * (as the recovery limit does); the caller notifies people after commit. A retry rebuilds the
 * same payload from the same row, so the error says the row must be corrected first.
 */
async function failUnqueueable(tx: Prisma.TransactionClient, c: Candidate, reason: string): Promise<Recovery> {
  const error = `its job cannot be built: ${reason}; not retryable until the remediation's row is corrected`.slice(0, 1_000);
  await tx.$executeRaw`
    UPDATE remediations SET status = 'failed', error = ${error}, finished_at = now(), updated_at = now()
     WHERE id = ${c.id}::uuid`;
  await tx.auditEvent.create({
    data: { actor: RECONCILER_ACTOR, action: "remediation.recovery_refused", findingId: c.findingId, remediationId: c.id, detail: { was: c.status, reason: reason.slice(0, 500) } },
  });
  return { kind: "unqueueable", id: c.id, error };
}

/**
 * The job that carries the remediation on from where Postgres says it stands: the continuation
 * or release an approval of the current plan owes; the evidence steps of a running remediation
 * already contained (under the approval, if any, that its containment ran under); else the
 * playbook from its first unfinished step.
 */
export function recoveryAction(c: Pick<Candidate, "status" | "approved" | "contained" | "plan">): RemediationJob["action"] {
  const planned = planAction(c.plan);
  // A queued remediation has no plan in force (a retry voids it): it starts over as a containment,
  // which freezes and asks again wherever an approval is needed.
  if (c.status !== RemediationStatus.queued && c.approved && planned) return planned;
  if (c.status === RemediationStatus.running && c.contained) return "evidence";
  return "contain";
}

function lostHow(sightings: readonly JobSighting[]): LostHow {
  if (sightings.length === 0) return "lost";
  return sightings.some((s) => s.state === "failed") ? "failed" : "finished";
}
