// What a step's plan says besides its calls. The frozen plan has one note per step (core's plan
// schema), which the engine fills from a check's note when the step makes no call; a step that
// does make calls but must tell the approver what they do not cover (scale-in protection does not
// stop health-check replacements; AWS may refuse changing a task ENI; a service starts a new task)
// sets it here. Plan and dry-run only: in act mode nothing is recorded.
import { addPlanNote } from "../../engine/derive.js";
import type { StepContext } from "../../engine/step.js";

export function planNote(ctx: StepContext, note: string): void {
  addPlanNote(ctx, note);
}
