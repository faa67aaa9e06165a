// Release 1: give every interface back the security groups it had before isolation: the ones
// isolate recorded (either version's output), else identify's pre-state. Interfaces that are no
// longer there are left alone (nothing to restore on them) and reported.
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../../engine/step.js";
import { pendingRestorations, restoreEniGroups } from "../../kit/isolation/index.js";
import { idOf } from "../../kit/schema.js";
import { parseIsolateOutput } from "../03-isolate.js";
import { NETWORK_INTERFACE_ID, SECURITY_GROUP_ID } from "../shared/ids.js";
import { readEnis } from "../shared/instance.js";
import { STEP } from "../shared/names.js";
import { requirePreState } from "../shared/pre-state.js";

/** Each interface with the groups it holds again; `gone`: interfaces that no longer exist. */
const restoreGroupsOutput = z.object({
  enis: z.array(z.object({ id: idOf(NETWORK_INTERFACE_ID), groupIds: z.array(idOf(SECURITY_GROUP_ID)) })),
  gone: z.array(idOf(NETWORK_INTERFACE_ID)).default([]),
});

type Recorded = { id: string; previousGroupIds: string[] }[];

/**
 * The interfaces to restore and their groups. Only interfaces still attached to the instance are
 * touched: one detached since (and perhaps attached elsewhere) is not this release's to change.
 */
async function recorded(ctx: StepContext): Promise<Recorded> {
  const pre = requirePreState(ctx);
  const isolated = ctx.outputs.get(STEP.isolate);
  const enis: Recorded =
    isolated === undefined ? pre.enis.map((e) => ({ id: e.id, previousGroupIds: e.groupIds })) : parseIsolateOutput(isolated).enis;
  const attached = new Set((await readEnis(ctx, pre.instanceId)).map((e) => e.id));
  return enis.filter((e) => attached.has(e.id));
}

function outputOf(enis: Recorded, gone: string[], leftContained: string[]): z.infer<typeof restoreGroupsOutput> {
  const restored = enis.filter((e) => !gone.includes(e.id) && !leftContained.includes(e.id));
  return { enis: restored.map((e) => ({ id: e.id, groupIds: e.previousGroupIds })), gone };
}

/**
 * An interface whose recorded groups are the service's own isolation groups was contained by
 * another remediation of the instance (a second finding) when this one found it: putting it
 * "back" would contain it again after that remediation's release. Left to that remediation.
 */
function leftContainedNote(ids: readonly string[]): string {
  return `${ids.join(", ")} held only the service's isolation groups when this remediation found ${ids.length === 1 ? "it" : "them"} (another remediation of the instance contained ${ids.length === 1 ? "it" : "them"}): left as ${ids.length === 1 ? "it is" : "they are"}, that remediation's release restores ${ids.length === 1 ? "it" : "them"}`;
}

export const restoreGroups: Step = {
  name: STEP.restoreGroups,
  destructive: false,
  output: restoreGroupsOutput,

  async check(ctx): Promise<CheckResult> {
    const enis = await recorded(ctx);
    const { pending, gone, leftContained } = await pendingRestorations(ctx, enis);
    if (pending.length > 0) return { done: false };
    return { done: true, output: outputOf(enis, gone, leftContained), ...(leftContained.length > 0 ? { note: leftContainedNote(leftContained) } : {}) };
  },

  async act(ctx) {
    const enis = await recorded(ctx);
    const { gone, leftContained } = await restoreEniGroups(ctx, enis);
    return outputOf(enis, gone, leftContained);
  },

  async verify(ctx) {
    const { pending } = await pendingRestorations(ctx, await recorded(ctx));
    if (pending.length > 0) throw new VerificationError(`groups not restored on ${pending.map((p) => p.id).join(", ")}`);
  },
};
