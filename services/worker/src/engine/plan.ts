import { createHash } from "node:crypto";
import type { DeclinedOutcome, FrozenPlan, ReleasableStatus } from "@gdr/core/approvals/plan";
import { deriveCalls, type RecordingContext } from "./derive.js";
import { EscalateRemediation, type Json, type Step } from "./step.js";

/** The plan a person approves, typed once in core (the API, the page and the approvals read it). */
export type { FrozenPlan } from "@gdr/core/approvals/plan";

/**
 * Runs each remaining step in plan mode, from the live state: the calls its act would make now.
 * `contextFor` gives a fresh plan-mode context over the outputs so far (each step's planned output
 * is there for the steps after it). Once approved, a release plan is carried out by a release
 * job, a continue plan by a continuation (ActionRule.plan).
 */
export async function buildPlan(
  remediationId: string,
  action: "continue" | "release",
  steps: readonly Step[],
  contextFor: (outputs: Map<string, Json>) => RecordingContext,
  outputs: ReadonlyMap<string, Json>,
  options: { ifDeclined: DeclinedOutcome; releaseFrom?: ReleasableStatus; reason?: string; now?: Date },
): Promise<FrozenPlan> {
  const planned: FrozenPlan["steps"] = [];
  const sofar = new Map(outputs);
  for (const step of steps) {
    let recorded;
    try {
      recorded = await deriveCalls(step, contextFor(sofar), sofar);
    } catch (err) {
      // The plan covers several steps: the record must name the one that escalated.
      if (err instanceof EscalateRemediation) err.step ??= step.name;
      throw err;
    }
    planned.push({ name: step.name, destructive: step.destructive, calls: recorded.calls, ...(recorded.note === undefined ? {} : { note: recorded.note }) });
  }
  return {
    remediationId,
    action,
    frozenAt: (options.now ?? new Date()).toISOString(),
    ifDeclined: options.ifDeclined,
    ...(options.releaseFrom ? { releaseFrom: options.releaseFrom } : {}),
    ...(options.reason ? { reason: options.reason } : {}),
    steps: planned,
  };
}

/**
 * The steps one plan may cover, from the step that waits: a destructive step is a plan (and a
 * decision) of its own; anything else runs up to, not including, the next destructive step. So an
 * approver can say "contain" without saying "terminate", and an expiry that may contain (policy
 * `onExpiry: contain`) finds a plan it is allowed to carry out.
 */
export function planSlice(steps: readonly Step[], index: number): readonly Step[] {
  const first = steps[index];
  if (!first) return [];
  if (first.destructive) return [first];
  const rest = steps.slice(index);
  const cut = rest.findIndex((s) => s.destructive);
  return cut === -1 ? rest : rest.slice(0, cut);
}

/**
 * sha256 of the plan's canonical JSON (object keys sorted at every depth), so the hash an
 * approver saw is the hash the engine checks, whatever order a step listed parameters in.
 */
export function planHash(plan: FrozenPlan | Json): string {
  return createHash("sha256").update(canonical(plan)).digest("hex");
}

function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k] as Json)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

export function planAsJson(plan: FrozenPlan): Json {
  return plan;
}
