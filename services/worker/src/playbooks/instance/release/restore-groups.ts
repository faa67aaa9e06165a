// Release 1: give every interface back the security groups identify recorded before isolation.
// Interfaces that are no longer attached are left alone (nothing to restore on them).
import {
  ModifyNetworkInterfaceAttributeCommand,
  type ModifyNetworkInterfaceAttributeCommandInput,
} from "@aws-sdk/client-ec2";
import { VerificationError, type CheckResult, type PlannedCall, type Step, type StepContext } from "../../../engine/step.js";
import { send } from "../shared/call.js";
import { ec2DryRun } from "../shared/dry-run.js";
import { instanceIdOf } from "../shared/ids.js";
import { readEnis, sameGroups } from "../shared/instance.js";
import { toJsonObject } from "../shared/json.js";
import { STEP } from "../shared/names.js";
import { requirePreState } from "../shared/pre-state.js";

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

  async check(ctx): Promise<CheckResult> {
    return (await restorations(ctx)).length === 0 ? { done: true, output: restored(ctx) } : { done: false };
  },

  async act(ctx) {
    for (const input of await restorations(ctx)) {
      await send(ctx, "ec2-write", (o) => ctx.aws.ec2.send(new ModifyNetworkInterfaceAttributeCommand(input), o));
    }
    return restored(ctx);
  },

  async verify(ctx) {
    const left = await restorations(ctx);
    if (left.length > 0) {
      throw new VerificationError(`groups not restored on ${left.map((i) => i.NetworkInterfaceId).join(", ")}`);
    }
  },

  async plan(ctx) {
    return (await restorations(ctx)).map(
      (input): PlannedCall => ({ service: "ec2", operation: "ModifyNetworkInterfaceAttribute", params: toJsonObject(input) }),
    );
  },

  async dryRun(ctx) {
    const results = [];
    for (const input of await restorations(ctx)) {
      results.push(
        await ec2DryRun(ctx, "ec2-write", `ModifyNetworkInterfaceAttribute ${input.NetworkInterfaceId ?? ""}`, (o) =>
          ctx.aws.ec2.send(new ModifyNetworkInterfaceAttributeCommand({ ...input, DryRun: true }), o),
        ),
      );
    }
    return results;
  },
};
