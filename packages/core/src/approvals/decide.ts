import { Prisma, type PrismaClient } from "@prisma/client";
import { RemediationStatus } from "../db/client.js";
import { jobIdWith } from "../queues/job-ids.js";
import { z } from "zod";
import { remediationJobSchema, type RemediationJob } from "../queues/catalog.js";
import { dispatchForRemediations, outboxEntry, reportSetAside, setAsideFor, type SetAsideReport } from "../queues/outbox.js";
import { remediationJobInput, type RemediationJobSource } from "../queues/remediation-job.js";
import { isRemediationContained } from "./contained.js";
import { fourEyesObjection } from "./four-eyes.js";
import { planAction, statusAfterDecline } from "./plan-fields.js";
import type { RemediationQueues } from "../queues/queues.js";

export type Decision =
  | { ok: true; remediationId: string; step: string; jobId?: string }
  | {
      ok: false;
      /**
       * `unqueueable`: the remediation's row no longer makes a valid job payload, so nothing was
       * recorded. `set_aside`: the decision or request was recorded, but its job could not be
       * queued (the outbox set it aside; the message says what that did to the remediation).
       */
      error: "not_found" | "not_awaiting_approval" | "plan_changed" | "already_decided" | "same_actor" | "unqueueable" | "set_aside";
      message: string;
    };

export interface DecisionInput {
  remediationId: string;
  actor: string;
  reason: string;
  /** The plan hash the person saw; it must equal the plan now on record. */
  planHash: string;
  /**
   * Four-eyes (API_FOUR_EYES): an approval is refused (`same_actor`) from whoever asked for the
   * release the plan carries out, or, on a destructive plan, submitted its finding or asked for
   * the retry that led to it (see four-eyes.ts). Checked on the locked row, in the transaction.
   */
  fourEyes?: boolean;
}

interface Waiting extends RemediationJobSource {
  status: RemediationStatus;
  plan_hash: string | null;
  plan: unknown;
  step: string | null;
  job_id: string;
}

/**
 * Approves the plan a remediation waits on: in one transaction the approval row (unique per
 * remediation and plan hash, so concurrent decisions resolve to one), the audit event and the
 * outbox row of the continuation job; the job is enqueued after commit, exactly once (its id
 * carries the plan hash).
 */
export async function approveRemediation(prisma: PrismaClient, queues: RemediationQueues, input: DecisionInput, report?: SetAsideReport): Promise<Decision> {
  const result = await decide(prisma, input, "approved");
  if (!result.ok) return result;
  return queued(prisma, queues, input.remediationId, result, "approved", report);
}

/**
 * Dispatches the remediation's outbox row after commit; a row set aside is reported and turns the
 * answer into `set_aside`, so that nobody is told the job was queued when it was not.
 */
async function queued(prisma: PrismaClient, queues: RemediationQueues, remediationId: string, result: Decision, what: string, report?: SetAsideReport): Promise<Decision> {
  const dispatched = await dispatchForRemediations(prisma, queues, [remediationId]);
  if (report) await reportSetAside(prisma, report, dispatched.setAside);
  const aside = setAsideFor(dispatched, remediationId);
  if (!aside) return result;
  const left = aside.remediationFailed ? "the remediation failed" : "the remediation is unchanged";
  return { ok: false, error: "set_aside", message: `${what}, but its job could not be queued: ${aside.reason}; ${left}` };
}

/**
 * The job payload for the remediation's row, or why it cannot be built: a retry or decision would
 * rebuild the same payload from the same row, so the answer is a refusal, never a thrown ZodError.
 */
export function jobFor(r: RemediationJobSource, action: RemediationJob["action"]): { ok: true; job: RemediationJob } | { ok: false; message: string } {
  const parsed = remediationJobSchema.safeParse(remediationJobInput(r, action));
  if (parsed.success) return { ok: true, job: parsed.data };
  const why = z.prettifyError(parsed.error).replace(/\s*\n\s*/g, "; ").slice(0, 500);
  return { ok: false, message: `its job cannot be built from the remediation's fields (${why}); nothing was queued, and nothing will be until they are corrected` };
}

/** Rejects the plan: the remediation ends `rejected`; nothing else runs. */
export function rejectRemediation(prisma: PrismaClient, input: DecisionInput): Promise<Decision> {
  return decide(prisma, input, "rejected");
}

async function decide(prisma: PrismaClient, input: DecisionInput, decision: "approved" | "rejected"): Promise<Decision> {
  try {
    return await prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<Waiting[]>`
        SELECT r.id::text AS id, r.status::text AS status, r.plan_hash, r.plan, r.playbook, r.finding_id AS "findingId",
               r.resource_key AS "resourceKey", r.account_id AS "accountId", r.region, r.mode::text AS mode, r.job_id,
               (SELECT s.name FROM remediation_steps s WHERE s.remediation_id = r.id AND s.status = 'awaiting_approval' LIMIT 1) AS step
          FROM remediations r WHERE r.id = ${input.remediationId}::uuid FOR UPDATE`;
      const r = rows[0];
      if (!r) return { ok: false, error: "not_found", message: `no remediation ${input.remediationId}` } as const;
      if (r.status !== RemediationStatus.awaiting_approval || !r.step) {
        return { ok: false, error: "not_awaiting_approval", message: `remediation is ${r.status}, not awaiting approval` } as const;
      }
      if (r.plan_hash !== input.planHash) {
        return { ok: false, error: "plan_changed", message: "the plan changed since it was shown; review the current plan" } as const;
      }
      if (decision === "approved" && input.fourEyes) {
        const objection = await fourEyesObjection(tx, { id: r.id, findingId: r.findingId, plan: r.plan }, input.actor);
        if (objection) return { ok: false, error: "same_actor", message: `four-eyes: ${input.actor} ${objection.why}, so another person must approve it` } as const;
      }
      const action = planAction(r.plan) ?? "continue";
      // Before anything is written: an approval whose job cannot be built would be a decision
      // nothing carries out.
      const built = decision === "approved" ? jobFor(r, action) : null;
      if (built && !built.ok) return { ok: false, error: "unqueueable", message: built.message } as const;
      await tx.approval.create({
        data: { remediationId: r.id, step: r.step, decision, actor: input.actor, reason: input.reason, planHash: input.planHash },
      });
      await tx.auditEvent.create({
        data: {
          actor: input.actor,
          action: `approval.${decision}`,
          findingId: r.findingId,
          remediationId: r.id,
          detail: { step: r.step, reason: input.reason, planHash: input.planHash },
        },
      });
      if (decision === "rejected") {
        await declinePlan(tx, { id: r.id, plan: r.plan, step: r.step }, "rejected", `rejected by ${input.actor}: ${input.reason}`);
        return { ok: true, remediationId: r.id, step: r.step } as const;
      }
      if (!built) throw new Error("an approval always builds its job");
      const jobId = jobIdWith(r.job_id, { kind: "approved", action, planHash: input.planHash });
      await tx.outboxEntry.create({ data: outboxEntry(built.job, jobId) });
      return { ok: true, remediationId: r.id, step: r.step, jobId } as const;
    });
  } catch (err) {
    // The unique key on (remediation, plan hash): another decision on this plan committed first.
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002") {
      return { ok: false, error: "already_decided", message: "a decision on this plan was already recorded" };
    }
    throw err;
  }
}

/**
 * Ends a plan that will not run (rejected, or expired): the waiting step goes back to pending, and
 * the remediation takes the status the plan says a decline leaves. A resource already contained
 * stays on record as contained (succeeded), so a rejected release or termination can be asked for
 * again later; a plan that was to start containment ends rejected or expired.
 */
export async function declinePlan(
  tx: Pick<Prisma.TransactionClient, "remediation" | "remediationStep">,
  r: { id: string; plan: unknown; step: string },
  decline: "rejected" | "expired",
  message: string,
  now = new Date(),
): Promise<ReturnType<typeof statusAfterDecline>> {
  const status = statusAfterDecline(r.plan, decline);
  await tx.remediationStep.update({ where: { remediationId_name: { remediationId: r.id, name: r.step } }, data: { status: "pending" } });
  // Back to a status it had (contained, or failed after containment): its finishedAt and error
  // stay as they were; the decision itself is in the approvals row and the audit trail.
  const data = status === "succeeded" ? { status, error: null } : status === "failed" ? { status } : { status, finishedAt: now, error: message };
  await tx.remediation.update({ where: { id: r.id }, data });
  return status;
}

/**
 * Asks for containment to be undone: enqueues a release job, which freezes the release plan and
 * waits for an approval like any other gate.
 */
export async function requestRelease(prisma: PrismaClient, queues: RemediationQueues, remediationId: string, actor: string, report?: SetAsideReport): Promise<Decision> {
  const r = await prisma.remediation.findUnique({ where: { id: remediationId } });
  if (!r) return { ok: false, error: "not_found", message: `no remediation ${remediationId}` };
  // Contained: succeeded, or failed after its playbook's containment steps were done (a step after
  // containment failed for good, e.g. snapshots refused: the resource is still contained and must
  // stay releasable). The worker sets contained_at when the containment steps are done; an older
  // worker during a rolling deploy does not (contained.ts: the fallback, and when it goes).
  const contained = r.status === RemediationStatus.failed && (await isRemediationContained(prisma, remediationId));
  if (!(r.status === RemediationStatus.succeeded || (r.status === RemediationStatus.failed && contained))) {
    return { ok: false, error: "not_awaiting_approval", message: `only a contained remediation (succeeded, or failed after containment) can be released; it is ${r.status}` };
  }
  const built = jobFor(r, "release");
  if (!built.ok) return { ok: false, error: "unqueueable", message: built.message };
  const job = built.job;
  // Not deduplicated by id on purpose: a later release request (after a re-containment) is new.
  // A repeated request is harmless: the release job finds the plan already awaiting approval.
  const jobId = jobIdWith(r.jobId, { kind: "release-request", at: Date.now() });
  await prisma.$transaction([
    prisma.outboxEntry.create({ data: outboxEntry(job, jobId) }),
    prisma.auditEvent.create({ data: { actor, action: "release.requested", findingId: r.findingId, remediationId } }),
  ]);
  return queued(prisma, queues, remediationId, { ok: true, remediationId, step: "release", jobId }, "release requested", report);
}
