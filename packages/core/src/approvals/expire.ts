import { Prisma, type PrismaClient } from "@prisma/client";
import { jobIdWith } from "../queues/job-ids.js";
import { dispatchForRemediations, outboxEntry, type SetAsideRow } from "../queues/outbox.js";
import type { RemediationJobSource } from "../queues/remediation-job.js";
import type { RemediationQueues } from "../queues/queues.js";
import { declinePlan, jobFor } from "./decide.js";
import { planHold } from "./plan-fields.js";

/** The actor of every decision the expiry makes; no API token can carry it (tokens are `token:<name>`). */
export const EXPIRY_ACTOR = "system:expiry";

export interface ExpiryOptions {
  /** The clock; tests pass a later time instead of waiting. */
  now?: Date;
  expiryMs: number;
  /** The policy's text form ("24h"), for the reason; derived from expiryMs when absent. */
  expiry?: string;
  onExpiry: "cancel" | "contain";
  /** At most this many remediations per sweep (the next sweep takes the rest). */
  limit?: number;
}

export interface ExpiryResult {
  /** Declined by the expiry: ended `expired`, or back to `succeeded` for a resource already contained. */
  expired: string[];
  /** Authorised by the expiry to finish their non-destructive containment, and queued. */
  contained: string[];
  /** Authorised, but their continuation's outbox row was set aside (the caller reports them). */
  setAside: SetAsideRow[];
}

interface Candidate extends RemediationJobSource {
  plan_hash: string | null;
  plan: unknown;
  step: string | null;
  job_id: string;
  decided: boolean;
  waiting_since: Date | null;
}

/**
 * Ends every approval that waited longer than the policy allows. Each remediation is decided in
 * its own transaction with its row locked (`FOR UPDATE SKIP LOCKED`: a row an approver is deciding
 * right now is left to that approver and looked at again by the next sweep), and the decision is
 * an approvals row, whose unique (remediation, plan hash) key guarantees one decision per plan
 * whoever commits first.
 *
 * `cancel`: an `expired` approval row; the remediation ends `expired`, or, when the resource is
 * contained already (a release plan, a termination after containment), stays contained (succeeded).
 * `contain`: without a person, only a plan that changes nothing destructively may go ahead: an
 * approval-mode containment whose frozen plan lists no destructive step and carries no hold (a
 * plan with a `reason` waits for a person by the worker's judgement, not the mode's, and expires
 * as under `cancel`, its reason in the error and the notification). It gets an `approved` row
 * by `system:expiry` and its continuation is enqueued through the outbox (as an approval would).
 * The worker freezes every containment plan up to, not including, the first destructive step (a
 * destructive step is a plan and a decision of its own, frozen after containment), so with
 * termination enabled a medium finding's plan is still containable here; the termination plan that
 * follows, like every release plan, is cancelled instead (`expired`, leaving the resource
 * contained): a timeout never authorises those. The runner, for its part, runs only the steps an
 * approved plan lists.
 */
export async function expireApprovals(prisma: PrismaClient, queues: RemediationQueues, options: ExpiryOptions): Promise<ExpiryResult> {
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - options.expiryMs);
  const expiry = options.expiry ?? `${Math.round(options.expiryMs / 60_000)}m`;
  const due = await prisma.$queryRaw<{ id: string }[]>`
    SELECT r.id::text AS id FROM remediations r
     WHERE r.status = 'awaiting_approval'
       AND (SELECT max(a.at) FROM audit_events a WHERE a.remediation_id = r.id AND a.action = 'remediation.awaiting_approval') <= ${cutoff}
       -- Decided already (approved, its continuation not yet run): not the sweep's; left in, a
       -- backlog of these (a pause holds every continuation) would fill the limit every sweep.
       AND NOT EXISTS (SELECT 1 FROM approvals p WHERE p.remediation_id = r.id AND p.plan_hash = r.plan_hash)
     ORDER BY r.updated_at
     LIMIT ${options.limit ?? 500}`;
  const result: ExpiryResult = { expired: [], contained: [], setAside: [] };
  for (const { id } of due) {
    const outcome = await expireOne(prisma, id, cutoff, now, expiry, options.onExpiry);
    if (outcome === "expired") result.expired.push(id);
    if (outcome === "contained") result.contained.push(id);
  }
  if (result.contained.length > 0) {
    const dispatched = await dispatchForRemediations(prisma, queues, result.contained);
    result.setAside = dispatched.setAside;
    const aside = new Set(dispatched.setAside.map((s) => s.remediationId));
    result.contained = result.contained.filter((id) => !aside.has(id));
  }
  return result;
}

async function expireOne(
  prisma: PrismaClient,
  id: string,
  cutoff: Date,
  now: Date,
  expiry: string,
  onExpiry: ExpiryOptions["onExpiry"],
): Promise<"expired" | "contained" | "skipped"> {
  try {
    return await prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<Candidate[]>`
        SELECT r.id::text AS id, r.plan_hash, r.plan, r.playbook, r.finding_id AS "findingId", r.resource_key AS "resourceKey",
               r.account_id AS "accountId", r.region, r.mode::text AS mode, r.job_id,
               (SELECT s.name FROM remediation_steps s WHERE s.remediation_id = r.id AND s.status = 'awaiting_approval' ORDER BY s."order" LIMIT 1) AS step,
               EXISTS (SELECT 1 FROM approvals p WHERE p.remediation_id = r.id AND p.plan_hash = r.plan_hash) AS decided,
               (SELECT max(a.at) FROM audit_events a WHERE a.remediation_id = r.id AND a.action = 'remediation.awaiting_approval') AS waiting_since
          FROM remediations r
         WHERE r.id = ${id}::uuid AND r.status = 'awaiting_approval'
           FOR UPDATE OF r SKIP LOCKED`;
      const r = rows[0];
      // Locked by a deciding approver, decided meanwhile (an approved plan waits for its
      // continuation job), or re-frozen since the candidates were read: not this sweep's to end.
      if (!r || !r.step || r.decided || !r.waiting_since || r.waiting_since > cutoff) return "skipped" as const;
      const hold = planHold(r.plan);
      // A held plan (the worker found a reason a person must decide) expires like `cancel`
      // whatever the policy says, and the reason says why it was not contained.
      const planHash = r.plan_hash ?? "";
      // Built before deciding: a continuation that cannot be queued (the row's fields fail the
      // job schema) is not authorised; the plan expires as under `cancel` instead of failing the
      // sweep for every remediation after it.
      const built = jobFor(r, "continue");
      const base = `not decided within ${expiry}`;
      const reason =
        onExpiry !== "contain" ? base
        : hold !== null ? `${base}; held for a person (${hold}), so onExpiry: contain does not apply`
        : built.ok ? base
        : `${base}; not contained: ${built.message}`;
      const contain = onExpiry === "contain" && r.plan_hash !== null && containableWithoutPerson(r.plan) && built.ok;
      await tx.approval.create({
        data: {
          remediationId: r.id,
          step: r.step,
          decision: contain ? "approved" : "expired",
          actor: EXPIRY_ACTOR,
          reason: contain ? `${reason}; policy onExpiry: contain (non-destructive plan)` : reason,
          planHash,
          expiresAt: now,
        },
      });
      await tx.auditEvent.create({
        data: {
          actor: EXPIRY_ACTOR,
          action: "approval.expired",
          findingId: r.findingId,
          remediationId: r.id,
          detail: { step: r.step, reason, planHash, onExpiry, outcome: contain ? "contain" : "cancel" },
        },
      });
      if (!contain) {
        await declinePlan(tx, { id: r.id, plan: r.plan, step: r.step }, "expired", `approval expired: ${reason}`, now);
        return "expired" as const;
      }
      const jobId = jobIdWith(r.job_id, { kind: "approved", action: "continue", planHash });
      await tx.outboxEntry.create({ data: outboxEntry(built.job, jobId) });
      return "contained" as const;
    });
  } catch (err) {
    // The unique (remediation, plan hash) key: an approver's decision committed first.
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002") return "skipped";
    throw err;
  }
}

/**
 * A containment plan (not a release) whose every step is non-destructive and that the worker did
 * not hold for a person (a `reason` on the plan: e.g. the exemption tag on the live resource, or
 * the Credentials playbook's revocation of every session of a role); anything unreadable is not.
 */
export function containableWithoutPerson(plan: unknown): boolean {
  if (typeof plan !== "object" || plan === null) return false;
  if (planHold(plan) !== null) return false;
  const { action, steps } = plan as { action?: unknown; steps?: unknown };
  if (action !== "continue" || !Array.isArray(steps)) return false;
  return steps.every((s: unknown) => typeof s === "object" && s !== null && (s as { destructive?: unknown }).destructive === false);
}
