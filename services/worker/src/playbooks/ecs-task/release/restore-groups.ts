// Release 1: put the task ENI back on the groups identify recorded (kit restoreEniGroups). A
// stopped task's ENI is deleted by ECS: that is reported (nothing to restore), not an error.
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../../engine/step.js";
import { pendingRestorations, restoreEniGroups } from "../../kit/isolation/index.js";
import { parseOutput } from "../../kit/json.js";
import { isolateOutput } from "../04-isolate.js";
import { STEP } from "../names.js";

export const restoreGroupsOutput = z.object({ restored: z.array(z.string()), gone: z.array(z.string()) });

function isolatedEnis(ctx: StepContext): { id: string; previousGroupIds: string[] }[] | null {
  const value = ctx.outputs.get(STEP.isolate);
  if (value === undefined) return null;
  const recorded = parseOutput(isolateOutput, value, "isolate's output");
  return recorded.mode === "isolated" ? recorded.enis : null;
}

function goneNote(gone: readonly string[]): string {
  return `task ENI ${gone.join(", ")} no longer exists (ECS deletes a stopped task's ENI): nothing to restore`;
}

export const restoreGroups: Step = {
  name: STEP.restoreGroups,
  destructive: false,
  output: restoreGroupsOutput,

  async check(ctx): Promise<CheckResult> {
    const enis = isolatedEnis(ctx);
    if (enis === null) return { done: true, output: { restored: [], gone: [] }, note: "the task ENI was never isolated by this remediation" };
    const { pending, gone } = await pendingRestorations(ctx, enis);
    if (pending.length > 0) return { done: false };
    const restored = enis.map((e) => e.id).filter((id) => !gone.includes(id));
    return { done: true, output: { restored, gone }, ...(gone.length > 0 ? { note: goneNote(gone) } : {}) };
  },

  async act(ctx) {
    const enis = isolatedEnis(ctx) ?? [];
    const { restored, gone } = await restoreEniGroups(ctx, enis);
    return { restored, gone };
  },

  async verify(ctx) {
    const { pending } = await pendingRestorations(ctx, isolatedEnis(ctx) ?? []);
    if (pending.length > 0) throw new VerificationError(`not back on their groups: ${pending.map((p) => p.id).join(", ")}`);
  },
};
