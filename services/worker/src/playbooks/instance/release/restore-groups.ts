// Release 1: give every interface back the security groups identify recorded before isolation.
// Interfaces that are no longer attached are left alone (nothing to restore on them).
import {
  ModifyNetworkInterfaceAttributeCommand,
  type ModifyNetworkInterfaceAttributeCommandInput,
} from "@aws-sdk/client-ec2";
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../../engine/step.js";
import { NETWORK_INTERFACE_ID, SECURITY_GROUP_ID, instanceIdOf } from "../shared/ids.js";
import { readEnis, sameGroups } from "../shared/instance.js";
import { STEP } from "../shared/names.js";
import { requirePreState } from "../shared/pre-state.js";
import { idOf } from "../../kit/schema.js";

/** Each interface with the groups identify recorded, which it holds again. */
const restoreGroupsOutput = z.object({ enis: z.array(z.object({ id: idOf(NETWORK_INTERFACE_ID), groupIds: z.array(idOf(SECURITY_GROUP_ID)) })) });

/** One call per interface whose groups differ from the recorded ones. */
async function restorations(ctx: StepContext): Promise<ModifyNetworkInterfaceAttributeCommandInput[]> {
  const pre = requirePreState(ctx);
  const live = await readEnis(ctx, instanceIdOf(ctx));
  const inputs: ModifyNetworkInterfaceAttributeCommandInput[] = [];
  for (const recorded of pre.enis) {
    const now = live.find((e) => e.id === recorded.id);
    if (!now || sameGroups(now.groupIds, recorded.groupIds)) continue;
    inputs.push({ NetworkInterfaceId: recorded.id, Groups: recorded.groupIds });
  }
  return inputs;
}

function restored(ctx: StepContext): { enis: { id: string; groupIds: string[] }[] } {
  return { enis: requirePreState(ctx).enis.map((e) => ({ id: e.id, groupIds: e.groupIds })) };
}

export const restoreGroups: Step = {
  name: STEP.restoreGroups,
  destructive: false,
  output: restoreGroupsOutput,

  async check(ctx): Promise<CheckResult> {
    return (await restorations(ctx)).length === 0 ? { done: true, output: restored(ctx) } : { done: false };
  },

  async act(ctx) {
    for (const input of await restorations(ctx)) {
      await ctx.change({ service: "ec2", family: "ec2-write", command: new ModifyNetworkInterfaceAttributeCommand(input) });
    }
    return restored(ctx);
  },

  async verify(ctx) {
    const left = await restorations(ctx);
    if (left.length > 0) {
      throw new VerificationError(`groups not restored on ${left.map((i) => i.NetworkInterfaceId).join(", ")}`);
    }
  },
};
