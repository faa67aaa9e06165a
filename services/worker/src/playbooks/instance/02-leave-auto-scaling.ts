// Step 2: take the instance out of its Auto Scaling group's care BEFORE isolating it. An isolated
// instance fails its health checks, and the group would terminate it, destroying the evidence.
// Standby (or detach) without decrementing the desired capacity: the group launches a
// replacement, so the service keeps its capacity while this instance is investigated.
import {
  DetachInstancesCommand,
  EnterStandbyCommand,
  type EnterStandbyCommandInput,
} from "@aws-sdk/client-auto-scaling";
import { z } from "zod";
import { VerificationError, type CheckResult, type Json, type Step, type StepContext } from "../../engine/step.js";
import { errorName } from "../kit/errors.js";
import { parseOutput } from "../kit/json.js";
import { OUT_OF_SERVICE_STATES, autoScalingMembership, type AutoScalingMembership } from "./shared/auto-scaling.js";
import { AUTO_SCALING_GROUP_NAME, instanceIdOf } from "./shared/ids.js";
import { STEP } from "./shared/names.js";
import { recordedPreState } from "./shared/pre-state.js";
import { idOf } from "../kit/schema.js";

/**
 * What this step did, for release: only an instance this remediation put in standby is taken
 * out of standby again.
 */
const leaveAutoScalingOutput = z.object({
  action: z.enum(["entered-standby", "detached", "already-standby", "not-in-group"]),
  groupName: idOf(AUTO_SCALING_GROUP_NAME).nullable(),
  lifecycleState: z.string().nullable(),
});

export type LeaveAutoScalingOutput = z.infer<typeof leaveAutoScalingOutput>;
export type LeaveAutoScalingAction = LeaveAutoScalingOutput["action"];

function standbyInput(instanceId: string, groupName: string): EnterStandbyCommandInput {
  return { AutoScalingGroupName: groupName, InstanceIds: [instanceId], ShouldDecrementDesiredCapacity: false };
}

/** Names the action from where the instance was before (identify) and where it is now. */
function alreadyOut(ctx: StepContext, membership: AutoScalingMembership | null): LeaveAutoScalingOutput {
  const before = recordedPreState(ctx)?.autoScaling ?? null;
  if (!membership) {
    return { action: before ? "detached" : "not-in-group", groupName: before?.groupName ?? null, lifecycleState: null };
  }
  const standby = membership.lifecycleState === "Standby" || membership.lifecycleState === "EnteringStandby";
  const action: LeaveAutoScalingAction = !standby
    ? "detached"
    : before && before.lifecycleState === "Standby"
      ? "already-standby"
      : "entered-standby";
  return { action, groupName: membership.groupName, lifecycleState: membership.lifecycleState };
}

/** The recorded output read back (release decides from it), or null when the step did not run. */
export function parseLeaveAutoScalingOutput(value: Json | undefined): LeaveAutoScalingOutput | null {
  return value === undefined ? null : parseOutput(leaveAutoScalingOutput, value, "leave-auto-scaling's output");
}

export const leaveAutoScaling: Step = {
  name: STEP.leaveAutoScaling,
  destructive: false,
  output: leaveAutoScalingOutput,

  async check(ctx): Promise<CheckResult> {
    const membership = await autoScalingMembership(ctx, instanceIdOf(ctx));
    if (!membership || OUT_OF_SERVICE_STATES.has(membership.lifecycleState)) {
      const output = alreadyOut(ctx, membership);
      return { done: true, output, ...(output.action === "not-in-group" ? { note: "not in an Auto Scaling group" } : {}) };
    }
    return { done: false, state: membership };
  },

  // EnterStandby; if Auto Scaling refuses it with a ValidationError, DetachInstances with the same
  // parameters (a plan shows EnterStandby: a recorded call is never refused).
  async act(ctx) {
    const instanceId = instanceIdOf(ctx);
    const membership = await autoScalingMembership(ctx, instanceId);
    if (!membership || OUT_OF_SERVICE_STATES.has(membership.lifecycleState)) return alreadyOut(ctx, membership);
    const input = standbyInput(instanceId, membership.groupName);
    try {
      await ctx.change({ service: "autoscaling", family: "autoscaling", command: new EnterStandbyCommand(input) });
      const output: LeaveAutoScalingOutput = {
        action: "entered-standby",
        groupName: membership.groupName,
        lifecycleState: "Standby",
      };
      return output;
    } catch (err) {
      // Standby is refused in some lifecycle states (e.g. Pending); detaching still takes the
      // instance out of the group's health checks, and keeps the capacity the same way.
      if (errorName(err) !== "ValidationError") throw err;
      ctx.logger.warn(
        { instanceId, group: membership.groupName, lifecycleState: membership.lifecycleState },
        "EnterStandby refused; detaching the instance from its Auto Scaling group instead",
      );
    }
    await ctx.change({ service: "autoscaling", family: "autoscaling", command: new DetachInstancesCommand(input) });
    const output: LeaveAutoScalingOutput = { action: "detached", groupName: membership.groupName, lifecycleState: "Detached" };
    return output;
  },

  async verify(ctx) {
    const membership = await autoScalingMembership(ctx, instanceIdOf(ctx));
    if (membership && !OUT_OF_SERVICE_STATES.has(membership.lifecycleState)) {
      throw new VerificationError(
        `instance is still ${membership.lifecycleState} in Auto Scaling group ${membership.groupName}`,
      );
    }
  },
};
