/**
 * What the API, the expiry and the worker read from a frozen plan (the plan itself is built by
 * the worker's engine/plan.ts). A plan is stored as JSON, so every read here is defensive: an
 * unreadable field reads as the safe answer.
 */

/** See FrozenPlan.ifDeclined: what a rejection or an expiry leaves behind. */
export type DeclinedOutcome = "contained" | "nothing_done";

function field(plan: unknown, name: string): unknown {
  return typeof plan === "object" && plan !== null && !Array.isArray(plan) ? (plan as Record<string, unknown>)[name] : undefined;
}

/** Which job carries the plan out once approved; null for no plan or a dry-run record. */
export function planAction(plan: unknown): "continue" | "release" | null {
  const action = field(plan, "action");
  return action === "continue" || action === "release" ? action : null;
}

/** Statuses a contained remediation can be released from (see FrozenPlan.releaseFrom). */
export type ReleasableStatus = "succeeded" | "failed";

/**
 * The status a declined (rejected or expired) plan leaves. A release plan: the status the
 * remediation had when the release was asked for (`succeeded`, or `failed` after containment), so
 * nothing about it is misstated and it can be asked for again. A plan on a contained resource:
 * `succeeded`, it stays on record as contained and can still be released. Else the decline's own.
 */
export function statusAfterDecline(plan: unknown, decline: "rejected" | "expired"): ReleasableStatus | "rejected" | "expired" {
  if (planAction(plan) === "release") return field(plan, "releaseFrom") === "failed" ? "failed" : "succeeded";
  if (field(plan, "ifDeclined") === "contained") return "succeeded";
  return decline;
}
