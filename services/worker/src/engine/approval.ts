// The approval gate's decisions: whether a step waits for a person, and which approval a job
// runs under.
import type { ActionRule } from "./actions.js";
import type { EngineDeps } from "./deps.js";
import type { Json, Step } from "./step.js";
import type { LoadedRemediation } from "./store.js";

/**
 * `auto`: only destructive steps wait. `approval`: nothing changes until a person has approved;
 * read-only steps (identify) run first so the frozen plan is built from live state. Undoing
 * containment always waits for a person. A hold (a read-only step found a reason, e.g. the
 * exemption tag on the live resource) makes auto mode wait like approval mode.
 */
export function needsApproval(step: Step, loaded: LoadedRemediation, rule: ActionRule, hold: string | null): boolean {
  if (step.destructive || rule.everyStepAsks) return true;
  if (step.readOnly === true) return false;
  return loaded.ref.mode === "approval" || hold !== null;
}

/** The first reason a finished read-only step gives for a person to decide (Step.holdFor), or null. */
export function holdReason(steps: readonly Step[], outputs: ReadonlyMap<string, Json>): string | null {
  for (const step of steps) {
    const output = outputs.get(step.name);
    if (!step.holdFor || output === undefined) continue;
    const reason = step.holdFor(output);
    if (reason) return reason;
  }
  return null;
}

/**
 * The approval a job runs under: of the plan now on record (same hash), and of a plan made for
 * this kind of job (an approved terminate plan never authorises a release). Null when the job
 * looks for none or there is none.
 */
export async function approvalFor(rule: ActionRule, loaded: LoadedRemediation, deps: EngineDeps): Promise<{ actor: string } | null> {
  if (rule.approval === "none") return null;
  if (!loaded.planHash || loaded.planAction !== rule.plan) return null;
  const approval = await deps.store.approvedFor(loaded.ref.id, loaded.planHash);
  if (!approval && rule.approval === "required") {
    deps.logger.warn({ remediationId: loaded.ref.id }, "continuation without an approval of the current plan; nothing done");
  }
  return approval;
}

/**
 * Whether an approval covers a step: the steps of the plan it approved, nothing else (a
 * destructive step frozen later is a decision of its own). A decision made by the system (an
 * approval that expired into `contain`) never stands for a person's consent to a destructive step.
 */
export function covers(approved: { actor: string } | null, loaded: LoadedRemediation, step: Step): boolean {
  return approved !== null && loaded.planSteps.includes(step.name) && !(step.destructive && approved.actor.startsWith("system:"));
}
