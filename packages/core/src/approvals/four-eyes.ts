import type { Prisma } from "@prisma/client";
import { planAction, planIsDestructive } from "./plan-fields.js";

/** The remediation fields four-eyes reads: the row the decision locked. */
export interface FourEyesSubject {
  id: string;
  findingId: string;
  plan: unknown;
}

export interface Objection {
  /** Why this actor may not approve: what they did that the approval would vouch for. */
  why: string;
}

type Reader = Pick<Prisma.TransactionClient, "auditEvent" | "ingestReceipt">;

/** Audit actions that end a plan's wait: release requests before the latest one asked for an earlier plan. */
const DECISIONS = ["approval.approved", "approval.rejected", "approval.expired"];

/**
 * Four-eyes (API_FOUR_EYES): whether `actor` may approve the plan the remediation waits on, read
 * in the decision's transaction (on the locked row, so the answer is about the plan being decided).
 * An objection when the actor
 * - asked for the release this plan carries out (any `release.requested` by them since the
 *   remediation's last decision: approved, rejected or expired); or, for a plan
 *   with a destructive step (terminate, delete, stop):
 * - submitted the finding (any receipt of it through POST /v1/findings with `submitted_by` = the
 *   actor: a token that can submit findings must not also get a destructive action approved on
 *   its own word), or
 * - asked for a retry of the remediation (`remediation.retried`), which led to this plan.
 * A plan the worker froze from a finding that came through SQS, with nobody's retry, has nobody
 * to compare with, so anyone may approve it; so may anyone a non-destructive containment plan.
 */
export async function fourEyesObjection(tx: Reader, r: FourEyesSubject, actor: string): Promise<Objection | null> {
  if (planAction(r.plan) === "release") {
    // Any request by this actor since the last decision, not only the latest: two people may ask
    // before the plan is frozen, and this plan carries out both requests.
    const lastDecision = await tx.auditEvent.findFirst({
      where: { remediationId: r.id, action: { in: DECISIONS } },
      orderBy: { id: "desc" },
      select: { id: true },
    });
    const requested = await tx.auditEvent.findFirst({
      where: { remediationId: r.id, action: "release.requested", actor, ...(lastDecision ? { id: { gt: lastDecision.id } } : {}) },
      select: { id: true },
    });
    if (requested) return { why: "requested this release" };
  }
  if (!planIsDestructive(r.plan)) return null;
  const submitted = await tx.ingestReceipt.findFirst({ where: { findingId: r.findingId, submittedBy: actor }, select: { id: true } });
  if (submitted) return { why: "submitted the finding this destructive plan acts on" };
  const retried = await tx.auditEvent.findFirst({ where: { remediationId: r.id, action: "remediation.retried", actor }, select: { id: true } });
  if (retried) return { why: "requested the retry that led to this destructive plan" };
  return null;
}
