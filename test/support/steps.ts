// A playbook's steps run directly against moto, without Postgres or BullMQ: the engine's loop
// (engine/step-runner.ts) reduced to what a step test asserts on. Outputs go through each step's
// schema and on to the steps after it; a checkOnly step whose check passes is `verified`; an act
// that says notAvailable is `unavailable`, its output kept and not verified.
import { isNotAvailable, type Json, type Step, type StepContext } from "../../services/worker/src/engine/step.js";

export type StepOutcome = "acted" | "already-done" | "verified" | "unavailable";

export async function runSteps(steps: readonly Step[], ctx: StepContext & { outputs: Map<string, Json> }): Promise<Record<string, StepOutcome>> {
  const outcomes: Record<string, StepOutcome> = {};
  for (const step of steps) {
    const checked = await step.check(ctx);
    if (checked.done) {
      ctx.outputs.set(step.name, step.output.parse(checked.output));
      outcomes[step.name] = step.checkOnly === true ? "verified" : "already-done";
      continue;
    }
    const result = await step.act(ctx, checked.state);
    if (isNotAvailable(result)) {
      ctx.outputs.set(step.name, step.output.parse(result.output));
      outcomes[step.name] = "unavailable";
      continue;
    }
    const output = step.output.parse(result);
    await step.verify(ctx, output);
    ctx.outputs.set(step.name, output);
    outcomes[step.name] = "acted";
  }
  return outcomes;
}
