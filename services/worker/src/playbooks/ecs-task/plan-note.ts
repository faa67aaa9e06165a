// What a step's plan says besides its calls. The frozen plan has one note per step (core's plan
// schema), which the engine fills from a check's note when the step makes no call; a step that
// does make calls but must tell the approver what they do not cover (scale-in protection does not
// stop health-check replacements; AWS may refuse changing a task ENI; a service starts a new task)
// sets it here. Plan and dry-run only: in act mode nothing is recorded.
import type { StepContext } from "../../engine/step.js";

interface WithRecorded {
  recorded?: { note?: string };
}

export function planNote(ctx: StepContext, note: string): void {
  if (ctx.mode === "act") return;
  // The plan and dry-run contexts carry what their calls recorded (engine/derive.ts RecordingContext).
  const recorded = (ctx as StepContext & WithRecorded).recorded;
  if (recorded) recorded.note = recorded.note === undefined ? note : `${recorded.note} ${note}`;
}
