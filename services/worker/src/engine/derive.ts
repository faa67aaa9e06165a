// The plan and the dry-run of a step, derived from its act: the step runs with every change
// recorded instead of sent (calls.ts), so the calls an approver sees are the calls act makes.
import type { Recorded } from "./calls.js";
import { isNotAvailable, type Json, type Step, type StepContext } from "./step.js";

/** A step context in plan or dry-run mode, with what its calls recorded. */
export type RecordingContext = StepContext & { recorded: Recorded };

/**
 * Runs one step in plan or dry-run mode: its check first (a step whose effect is there already
 * would make no call), then its act with changes recorded. A checking step (checkOnly) changes
 * nothing and is not run. The step's planned output goes into `outputs`, for the steps after it
 * (with placeholders where it would hold an answer AWS has not given yet).
 */
export async function deriveCalls(step: Step, ctx: RecordingContext, outputs: Map<string, Json>): Promise<Recorded> {
  if (step.checkOnly === true) return ctx.recorded;
  const checked = await step.check(ctx);
  if (checked.done) {
    outputs.set(step.name, checked.output);
    if (checked.note !== undefined) ctx.recorded.note = checked.note;
    return ctx.recorded;
  }
  const output = await step.act(ctx, checked.state);
  const planned = isNotAvailable(output) ? output.output : output;
  outputs.set(step.name, planned);
  const said = step.planNote?.(planned);
  if (said) appendNote(ctx.recorded, said);
  return ctx.recorded;
}

function appendNote(recorded: Recorded, text: string): void {
  recorded.note = recorded.note === undefined ? text : `${recorded.note} ${text}`;
}

/**
 * Adds to the plan step's note, from inside act, what an approver must know beyond the calls
 * (scale-in protection does not stop health-check replacements; AWS may refuse a change). Plan and
 * dry-run contexts record it; in act mode (no record) it does nothing.
 */
export function addPlanNote(ctx: StepContext, text: string): void {
  if (ctx.mode === "act" || !("recorded" in ctx)) return;
  appendNote((ctx as RecordingContext).recorded, text);
}
