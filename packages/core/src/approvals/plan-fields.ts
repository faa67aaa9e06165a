import {
  declinedOutcomeSchema,
  planActionSchema,
  planStepSchema,
  releasableStatusSchema,
  type DeclinedOutcome,
  type PlanAction,
  type ReleasableStatus,
} from "./plan.js";

/**
 * What the API, the expiry and the worker read from a frozen plan (its one type: plan.ts; the plan
 * itself is built by the worker's engine/plan.ts). A plan is stored as JSON, so every read here is
 * defensive and field by field, through the plan schema's own field schemas: an unreadable field
 * reads as the safe answer, and one bad field does not make the others unreadable.
 */

export type { DeclinedOutcome, ReleasableStatus };

function field(plan: unknown, name: string): unknown {
  return typeof plan === "object" && plan !== null && !Array.isArray(plan) ? (plan as Record<string, unknown>)[name] : undefined;
}

/** Which job carries the plan out once approved; null for no plan or a dry-run record. */
export function planAction(plan: unknown): PlanAction | null {
  const action = planActionSchema.safeParse(field(plan, "action"));
  return action.success ? action.data : null;
}

/**
 * The status a declined (rejected or expired) plan leaves. A release plan: the status the
 * remediation had when the release was asked for (`succeeded`, or `failed` after containment), so
 * nothing about it is misstated and it can be asked for again. A plan on a contained resource:
 * `succeeded`, it stays on record as contained and can still be released. Else the decline's own.
 */
export function statusAfterDecline(plan: unknown, decline: "rejected" | "expired"): ReleasableStatus | "rejected" | "expired" {
  if (planAction(plan) === "release") return field(plan, "releaseFrom") === "failed" ? "failed" : "succeeded";
  const ifDeclined: DeclinedOutcome | undefined = declinedOutcomeSchema.safeParse(field(plan, "ifDeclined")).data;
  if (ifDeclined === "contained") return "succeeded";
  return decline;
}

/** The plan's steps, each as stored (unknown until read). */
function rawSteps(plan: unknown): unknown[] | null {
  const steps = field(plan, "steps");
  return Array.isArray(steps) ? (steps as unknown[]) : null;
}

/**
 * The names of the steps a plan lists: what its approval covers, and nothing else. An approval of
 * a containment plan never stands for a destructive step frozen later in a plan of its own.
 */
export function planStepNames(plan: unknown): string[] {
  return (rawSteps(plan) ?? []).flatMap((s) => {
    const name = planStepSchema.shape.name.safeParse(field(s, "name"));
    return name.success ? [name.data] : [];
  });
}

/** A release plan's `releaseFrom`, or null (not a release plan, or unreadable). */
export function planReleaseFrom(plan: unknown): ReleasableStatus | null {
  if (planAction(plan) !== "release") return null;
  return releasableStatusSchema.safeParse(field(plan, "releaseFrom")).data ?? null;
}

/**
 * Whether the plan lists a destructive step (`steps[].destructive`: terminate, delete, stop…).
 * Four-eyes bars more people from approving those; an unreadable plan reads as destructive, the
 * safe answer for a check that only ever adds a refusal.
 */
export function planIsDestructive(plan: unknown): boolean {
  const steps = rawSteps(plan);
  if (!steps) return true;
  return steps.some((s) => field(s, "destructive") !== false);
}

/**
 * Why the worker held the plan for a person where its mode alone would not have asked (the live
 * resource carries the exemption tag, a revocation of every session of a role), or null for no
 * hold. Any `reason` present counts, readable or not: an unreadable hold is still a hold.
 */
export function planHold(plan: unknown): string | null {
  const reason = field(plan, "reason");
  if (reason === undefined || reason === null) return null;
  return typeof reason === "string" && reason.trim() !== "" ? reason : "held for a person (reason unreadable)";
}
