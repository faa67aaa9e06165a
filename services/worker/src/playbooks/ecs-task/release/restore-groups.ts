// Release 1: put the task ENI back on the groups identify recorded (kit restoreEniGroups). A
// stopped task's ENI is deleted by ECS: that is reported (nothing to restore), not an error.
//
// A task ENI that identify found on its VPC's containment group already (another remediation of
// the task, a second finding, contained it first) recorded that group as its "previous" groups:
// putting it "back" would contain it again after that other remediation's release restored it.
// It is left as it is: the remediation that contained it restores it.
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../../engine/step.js";
import { pendingRestorations, restoreEniGroups } from "../../kit/isolation/index.js";
import { parseOutput } from "../../kit/json.js";
import { isolateOutput } from "../04-isolate.js";
import { STEP } from "../names.js";

export const restoreGroupsOutput = z.object({ restored: z.array(z.string()), gone: z.array(z.string()) });

interface Isolated {
  /** The ENIs this remediation moved, with the groups it found them on. */
  ours: { id: string; previousGroupIds: string[] }[];
  /** ENIs found contained already: another remediation's to restore. */
  foundContained: string[];
}

function isolatedEnis(ctx: StepContext): Isolated | null {
  const value = ctx.outputs.get(STEP.isolate);
  if (value === undefined) return null;
  const recorded = parseOutput(isolateOutput, value, "isolate's output");
  if (recorded.mode !== "isolated") return null;
  const containment = new Map(recorded.groups.map((g) => [g.vpcId, g.containmentGroupId]));
  const isolated: Isolated = { ours: [], foundContained: [] };
  for (const eni of recorded.enis) {
    const group = containment.get(eni.vpcId);
    if (group !== undefined && eni.previousGroupIds.length === 1 && eni.previousGroupIds[0] === group) isolated.foundContained.push(eni.id);
    else isolated.ours.push({ id: eni.id, previousGroupIds: eni.previousGroupIds });
  }
  return isolated;
}

function goneNote(gone: readonly string[]): string {
  return `task ENI ${gone.join(", ")} no longer exists (ECS deletes a stopped task's ENI): nothing to restore`;
}

function foundContainedNote(ids: readonly string[]): string {
  return `task ENI ${ids.join(", ")} was on its VPC's containment group already when this remediation found it (another remediation of the task contained it): left as it is, that remediation's release restores it`;
}

export const restoreGroups: Step = {
  name: STEP.restoreGroups,
  destructive: false,
  output: restoreGroupsOutput,

  async check(ctx): Promise<CheckResult> {
    const isolated = isolatedEnis(ctx);
    if (isolated === null) return { done: true, output: { restored: [], gone: [] }, note: "the task ENI was never isolated by this remediation" };
    const { pending, gone } = await pendingRestorations(ctx, isolated.ours);
    if (pending.length > 0) return { done: false };
    const restored = isolated.ours.map((e) => e.id).filter((id) => !gone.includes(id));
    const notes = [...(gone.length > 0 ? [goneNote(gone)] : []), ...(isolated.foundContained.length > 0 ? [foundContainedNote(isolated.foundContained)] : [])];
    return { done: true, output: { restored, gone }, ...(notes.length > 0 ? { note: notes.join("; ") } : {}) };
  },

  async act(ctx) {
    const { restored, gone } = await restoreEniGroups(ctx, isolatedEnis(ctx)?.ours ?? []);
    return { restored, gone };
  },

  async verify(ctx) {
    const { pending } = await pendingRestorations(ctx, isolatedEnis(ctx)?.ours ?? []);
    if (pending.length > 0) throw new VerificationError(`not back on their groups: ${pending.map((p) => p.id).join(", ")}`);
  },
};
