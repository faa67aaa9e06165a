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

/**
 * The names of the steps a plan lists: what its approval covers, and nothing else. An approval of
 * a containment plan never stands for a destructive step frozen later in a plan of its own.
 */
export function planStepNames(plan: unknown): string[] {
  const steps = field(plan, "steps");
  if (!Array.isArray(steps)) return [];
  return steps.flatMap((s: unknown) => {
    const name = field(s, "name");
    return typeof name === "string" ? [name] : [];
  });
}

/** A release plan's `releaseFrom`, or null (not a release plan, or unreadable). */
export function planReleaseFrom(plan: unknown): ReleasableStatus | null {
  if (planAction(plan) !== "release") return null;
  const from = field(plan, "releaseFrom");
  return from === "succeeded" || from === "failed" ? from : null;
}

/**
 * Whether the plan lists a destructive step (`steps[].destructive`: terminate, delete, stop…).
 * Four-eyes bars more people from approving those; an unreadable plan reads as destructive, the
 * safe answer for a check that only ever adds a refusal.
 */
export function planIsDestructive(plan: unknown): boolean {
  const steps = field(plan, "steps");
  if (!Array.isArray(steps)) return true;
  return steps.some((s: unknown) => field(s, "destructive") !== false);
}
