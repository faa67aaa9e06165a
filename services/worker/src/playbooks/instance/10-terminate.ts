// Step 10 (only when the policy asks for it, and always behind approval): terminate the instance.
// protect-evidence turned termination protection on, so it is turned off first, in the same
// approved plan; the volumes survive (DeleteOnTermination false) and were snapshotted.
import {
  ModifyInstanceAttributeCommand,
  TerminateInstancesCommand,
  type ModifyInstanceAttributeCommandInput,
  type TerminateInstancesCommandInput,
} from "@aws-sdk/client-ec2";
import { z } from "zod";
import { VerificationError, type CheckResult, type Step } from "../../engine/step.js";
import { instanceIdOf } from "./shared/ids.js";
import { describeInstance, instanceStateName, isEnding } from "./shared/instance.js";
import { STEP } from "./shared/names.js";

/** The instance's state after the step: `gone`, `shutting-down`, `terminated`, ... */
const terminateOutput = z.object({ state: z.string() });

function unprotectInput(instanceId: string): ModifyInstanceAttributeCommandInput {
  return { InstanceId: instanceId, DisableApiTermination: { Value: false } };
}

function terminateInput(instanceId: string): TerminateInstancesCommandInput {
  return { InstanceIds: [instanceId] };
}

export const terminate: Step = {
  name: STEP.terminate,
  destructive: true,
  output: terminateOutput,

  async check(ctx): Promise<CheckResult> {
    const instance = await describeInstance(ctx, instanceIdOf(ctx));
    if (!instance) return { done: true, output: { state: "gone" } };
    if (isEnding(instance)) return { done: true, output: { state: instanceStateName(instance) } };
    return { done: false };
  },

  async act(ctx) {
    const instanceId = instanceIdOf(ctx);
    await ctx.change({ service: "ec2", family: "ec2-write", command: new ModifyInstanceAttributeCommand(unprotectInput(instanceId)) });
    const out = await ctx.change({ service: "ec2", family: "ec2-write", command: new TerminateInstancesCommand(terminateInput(instanceId)) });
    const state = out.TerminatingInstances?.find((i) => i.InstanceId === instanceId)?.CurrentState?.Name ?? "unknown";
    return { state };
  },

  async verify(ctx) {
    const instance = await describeInstance(ctx, instanceIdOf(ctx));
    if (instance && !isEnding(instance)) {
      throw new VerificationError(`instance is ${instanceStateName(instance)}, not terminating`);
    }
  },
};
