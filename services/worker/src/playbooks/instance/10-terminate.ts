// Step 10 (only when the policy asks for it, and always behind approval): terminate the instance.
// protect-evidence turned termination protection on, so it is turned off first, in the same
// approved plan; the volumes survive (DeleteOnTermination false) and were snapshotted.
import {
  ModifyInstanceAttributeCommand,
  TerminateInstancesCommand,
  type ModifyInstanceAttributeCommandInput,
  type TerminateInstancesCommandInput,
} from "@aws-sdk/client-ec2";
import { VerificationError, type CheckResult, type PlannedCall, type Step } from "../../engine/step.js";
import { send } from "./shared/call.js";
import { ec2DryRun } from "./shared/dry-run.js";
import { instanceIdOf } from "./shared/ids.js";
import { describeInstance, instanceStateName, isEnding } from "./shared/instance.js";
import { toJsonObject } from "./shared/json.js";
import { STEP } from "./shared/names.js";

function unprotectInput(instanceId: string): ModifyInstanceAttributeCommandInput {
  return { InstanceId: instanceId, DisableApiTermination: { Value: false } };
}

function terminateInput(instanceId: string): TerminateInstancesCommandInput {
  return { InstanceIds: [instanceId] };
}

export const terminate: Step = {
  name: STEP.terminate,
  destructive: true,

  async check(ctx): Promise<CheckResult> {
    const instance = await describeInstance(ctx, instanceIdOf(ctx));
    if (!instance) return { done: true, output: { state: "gone" } };
    if (isEnding(instance)) return { done: true, output: { state: instanceStateName(instance) } };
    return { done: false };
  },

  async act(ctx) {
    const instanceId = instanceIdOf(ctx);
    await send(ctx, "ec2-write", (o) => ctx.aws.ec2.send(new ModifyInstanceAttributeCommand(unprotectInput(instanceId)), o));
    const out = await send(ctx, "ec2-write", (o) =>
      ctx.aws.ec2.send(new TerminateInstancesCommand(terminateInput(instanceId)), o),
    );
    const state = out.TerminatingInstances?.find((i) => i.InstanceId === instanceId)?.CurrentState?.Name ?? "unknown";
    return { state };
  },

  async verify(ctx) {
    const instance = await describeInstance(ctx, instanceIdOf(ctx));
    if (instance && !isEnding(instance)) {
      throw new VerificationError(`instance is ${instanceStateName(instance)}, not terminating`);
    }
  },

  plan(ctx) {
    const instanceId = instanceIdOf(ctx);
    const calls: PlannedCall[] = [
      { service: "ec2", operation: "ModifyInstanceAttribute", params: toJsonObject(unprotectInput(instanceId)) },
      { service: "ec2", operation: "TerminateInstances", params: toJsonObject(terminateInput(instanceId)) },
    ];
    return Promise.resolve(calls);
  },

  async dryRun(ctx) {
    const instanceId = instanceIdOf(ctx);
    return [
      await ec2DryRun(ctx, "ec2-write", "ModifyInstanceAttribute", (o) =>
        ctx.aws.ec2.send(new ModifyInstanceAttributeCommand({ ...unprotectInput(instanceId), DryRun: true }), o),
      ),
      await ec2DryRun(ctx, "ec2-write", "TerminateInstances", (o) =>
        ctx.aws.ec2.send(new TerminateInstancesCommand({ ...terminateInput(instanceId), DryRun: true }), o),
      ),
    ];
  },
};
