// Step 2: take the instance out of its Auto Scaling group's care BEFORE isolating it. An isolated
// instance fails its health checks, and the group would terminate it, destroying the evidence.
// Standby (or detach) without decrementing the desired capacity: the group launches a
// replacement, so the service keeps its capacity while this instance is investigated.
import {
  DetachInstancesCommand,
  EnterStandbyCommand,
  type EnterStandbyCommandInput,
} from "@aws-sdk/client-auto-scaling";
import { VerificationError, type CheckResult, type Json, type Step, type StepContext } from "../../engine/step.js";
import { OUT_OF_SERVICE_STATES, autoScalingMembership, type AutoScalingMembership } from "./shared/auto-scaling.js";
import { send } from "./shared/call.js";
import { notChecked } from "./shared/dry-run.js";
import { errorName } from "./shared/errors.js";
import { AUTO_SCALING_GROUP_NAME, expectId, instanceIdOf } from "./shared/ids.js";
import { asObject, asString, OutputShapeError, toJsonObject } from "./shared/json.js";
import { STEP } from "./shared/names.js";
import { recordedPreState } from "./shared/pre-state.js";

/**
 * What this step did, for release: only an instance this remediation put in standby is taken
 * out of standby again.
 */
const ACTIONS = ["entered-standby", "detached", "already-standby", "not-in-group"] as const;
export type LeaveAutoScalingAction = (typeof ACTIONS)[number];

function isAction(value: string): value is LeaveAutoScalingAction {
  return (ACTIONS as readonly string[]).includes(value);
}

export type LeaveAutoScalingOutput = {
  action: LeaveAutoScalingAction;
  groupName: string | null;
  lifecycleState: string | null;
};

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

export function parseLeaveAutoScalingOutput(value: Json | undefined): LeaveAutoScalingOutput | null {
  if (value === undefined) return null;
  const o = asObject(value, "leave-auto-scaling output");
  const action = asString(o.action, "action");
  if (!isAction(action)) {
    throw new OutputShapeError(`leave-auto-scaling output has an unknown action ${JSON.stringify(action)}`);
  }
  return {
    action,
    groupName: o.groupName === null ? null : expectId(AUTO_SCALING_GROUP_NAME, o.groupName, "groupName"),
    lifecycleState: o.lifecycleState === null ? null : asString(o.lifecycleState, "lifecycleState"),
  };
}

export const leaveAutoScaling: Step = {
  name: STEP.leaveAutoScaling,
  destructive: false,

  async check(ctx): Promise<CheckResult> {
    const membership = await autoScalingMembership(ctx, instanceIdOf(ctx));
    if (!membership || OUT_OF_SERVICE_STATES.has(membership.lifecycleState)) {
      return { done: true, output: alreadyOut(ctx, membership) };
    }
    return { done: false, state: membership };
  },

  async act(ctx) {
    const instanceId = instanceIdOf(ctx);
    const membership = await autoScalingMembership(ctx, instanceId);
    if (!membership || OUT_OF_SERVICE_STATES.has(membership.lifecycleState)) return alreadyOut(ctx, membership);
    const input = standbyInput(instanceId, membership.groupName);
    try {
      await send(ctx, "autoscaling", (o) => ctx.aws.autoscaling.send(new EnterStandbyCommand(input), o));
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
    await send(ctx, "autoscaling", (o) => ctx.aws.autoscaling.send(new DetachInstancesCommand(input), o));
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

  // EnterStandby; if Auto Scaling refuses it with a ValidationError, act falls back to
  // DetachInstances with the same parameters.
  async plan(ctx) {
    const instanceId = instanceIdOf(ctx);
    const membership = await autoScalingMembership(ctx, instanceId);
    if (!membership || OUT_OF_SERVICE_STATES.has(membership.lifecycleState)) return [];
    return [
      {
        service: "autoscaling",
        operation: "EnterStandby",
        params: toJsonObject(standbyInput(instanceId, membership.groupName)),
      },
    ];
  },

  dryRun() {
    return Promise.resolve([notChecked("autoscaling", "EnterStandby / DetachInstances")]);
  },
};
