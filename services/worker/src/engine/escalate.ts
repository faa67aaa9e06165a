// How a remediation stops for a person to look: GuardDuty does not confirm the finding (the
// confirmation gate), or a step found something the playbook cannot safely act on
// (EscalateRemediation: root credentials, a principal it does not handle). One path for both.
import type { EngineDeps } from "./deps.js";
import { FailedForGood } from "./signals.js";
import type { JsonObject } from "./step.js";
import type { LoadedRemediation } from "./store.js";

/** How a job ends when it stops for a person (or a rule), with the detail people are told. */
export interface Stopped {
  outcome: "cancelled" | "escalated" | "skipped";
  detail?: string;
}

export interface Escalation {
  loaded: LoadedRemediation;
  /** Whether the resource is contained already: stopping now leaves it so. */
  contained: boolean;
  /** The remediation's error, as people read it: `finding_unverified: ...`, `identify: ...`. */
  error: string;
  /** The audit event that says why, with its detail (the status it ended in is added). */
  audit: { action: string; detail: JsonObject };
}

/**
 * Nothing (more) is changed in AWS. Before containment the remediation ends `escalated`. After
 * it, it ends `failed` instead, which leaves the contained resource releasable and retryable
 * (`escalated` is retryable, not releasable), and the FailedForGood thrown tells people.
 * runRemediation notifies an `escalated` outcome.
 */
export async function escalate(e: Escalation, deps: EngineDeps): Promise<Stopped> {
  const id = e.loaded.ref.id;
  const ended = e.contained ? "failed" : "escalated";
  await deps.store.releaseWaitingSteps(id);
  await deps.store.setStatus(id, ended, { error: e.error.slice(0, 1_000) });
  await deps.store.audit(id, "worker", e.audit.action, { ...e.audit.detail, status: ended });
  deps.logger.warn({ remediationId: id, findingId: e.loaded.ref.findingId, error: e.error, status: ended }, "stopped for a person to look: nothing more changed");
  if (ended === "failed") throw new FailedForGood(`${e.error}; the resource stays contained, nothing more is changed`);
  return { outcome: "escalated", detail: e.error };
}

/**
 * The escalation of a step that found something its playbook cannot safely act on
 * (EscalateRemediation): audited as `remediation.escalated` with the step and the reason.
 */
export function stepEscalation(at: Pick<Escalation, "loaded" | "contained">, step: string, reason: string): Escalation {
  return {
    loaded: at.loaded,
    contained: at.contained,
    error: `escalated: ${step}: ${reason}`,
    audit: { action: "remediation.escalated", detail: { step, reason } },
  };
}
