// Release 2: bring the instance back into service in its Auto Scaling group, only if this
// remediation put it in standby (an instance that was in standby before stays there; a detached
// one is not re-attached: AttachInstances would change the group's desired capacity).
import { ExitStandbyCommand, type ExitStandbyCommandInput } from "@aws-sdk/client-auto-scaling";
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../../engine/step.js";
import { parseLeaveAutoScalingOutput } from "../02-leave-auto-scaling.js";
import { autoScalingMembership } from "../shared/auto-scaling.js";
import { AUTO_SCALING_GROUP_NAME, instanceIdOf } from "../shared/ids.js";
import { STEP } from "../shared/names.js";
import { idOf } from "../../kit/schema.js";

const exitStandbyOutput = z.union([
  z.object({ exited: z.literal(true), groupName: idOf(AUTO_SCALING_GROUP_NAME).nullable() }),
  z.object({ exited: z.literal(false), reason: z.string() }),
]);

/** The ExitStandby call still to make, or why there is none. */
async function pending(ctx: StepContext): Promise<ExitStandbyCommandInput | string> {
  const left = parseLeaveAutoScalingOutput(ctx.outputs.get(STEP.leaveAutoScaling));
  if (!left || left.action !== "entered-standby" || !left.groupName) return "this remediation did not put it in standby";
  const instanceId = instanceIdOf(ctx);
  const membership = await autoScalingMembership(ctx, instanceId);
  if (!membership) return "no longer in an Auto Scaling group";
  if (membership.lifecycleState !== "Standby") return `already ${membership.lifecycleState}`;
  return { AutoScalingGroupName: membership.groupName, InstanceIds: [instanceId] };
}

export const exitStandby: Step = {
  name: STEP.exitStandby,
  destructive: false,
  output: exitStandbyOutput,

  async check(ctx): Promise<CheckResult> {
    const next = await pending(ctx);
    return typeof next === "string" ? { done: true, output: { exited: false, reason: next } } : { done: false };
  },

  async act(ctx) {
    const next = await pending(ctx);
    if (typeof next === "string") return { exited: false, reason: next };
    await ctx.change({ service: "autoscaling", family: "autoscaling", command: new ExitStandbyCommand(next) });
    return { exited: true, groupName: next.AutoScalingGroupName ?? null };
  },

  async verify(ctx) {
    const next = await pending(ctx);
    if (typeof next !== "string") throw new VerificationError("the instance is still in standby");
  },
};
