// Step 4: keep the evidence. Termination protection on, an instance-initiated shutdown stops
// rather than terminates, and every EBS volume survives a termination (DeleteOnTermination
// false). Runs after isolation, which it must not delay: none of it changes what the instance
// can reach. ModifyInstanceAttribute changes one attribute per call, hence up to three calls.
import {
  DescribeInstanceAttributeCommand,
  ModifyInstanceAttributeCommand,
  type ModifyInstanceAttributeCommandInput,
} from "@aws-sdk/client-ec2";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../engine/step.js";
import { send } from "./shared/call.js";
import { ec2DryRun } from "./shared/dry-run.js";
import { instanceIdOf } from "./shared/ids.js";
import { requireLiveInstance, volumesOf, type VolumeState } from "./shared/instance.js";
import { toJsonObject } from "./shared/json.js";
import { STEP } from "./shared/names.js";

export type ProtectEvidenceOutput = {
  disableApiTermination: boolean;
  shutdownBehavior: string | null;
  volumes: VolumeState[];
};

/** The instance's protection now, and the calls that would complete it (none when complete). */
async function inspect(
  ctx: StepContext,
  instanceId: string,
): Promise<{ current: ProtectEvidenceOutput; changes: ModifyInstanceAttributeCommandInput[] }> {
  const instance = await requireLiveInstance(ctx, instanceId);
  const termination = await send(ctx, "ec2-read", (o) =>
    ctx.aws.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: "disableApiTermination" }), o),
  );
  const shutdown = await send(ctx, "ec2-read", (o) =>
    ctx.aws.ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: "instanceInitiatedShutdownBehavior" }),
      o,
    ),
  );
  const current: ProtectEvidenceOutput = {
    disableApiTermination: termination.DisableApiTermination?.Value ?? false,
    shutdownBehavior: shutdown.InstanceInitiatedShutdownBehavior?.Value ?? null,
    // Read from DescribeInstances: its block device mappings carry DeleteOnTermination per volume.
    volumes: volumesOf(instance),
  };
  const changes: ModifyInstanceAttributeCommandInput[] = [];
  if (!current.disableApiTermination) changes.push({ InstanceId: instanceId, DisableApiTermination: { Value: true } });
  if (current.shutdownBehavior !== "stop") {
    // The Attribute/Value form, which EC2 documents for this attribute: moto ignores the
    // InstanceInitiatedShutdownBehavior structure (and takes the call for a group change).
    changes.push({ InstanceId: instanceId, Attribute: "instanceInitiatedShutdownBehavior", Value: "stop" });
  }
  const kept = current.volumes.filter((v) => v.deleteOnTermination);
  if (kept.length > 0) {
    changes.push({
      InstanceId: instanceId,
      BlockDeviceMappings: kept.map((v) => ({ DeviceName: v.deviceName, Ebs: { DeleteOnTermination: false } })),
    });
  }
  return { current, changes };
}

export const protectEvidence: Step = {
  name: STEP.protectEvidence,
  destructive: false,

  async check(ctx): Promise<CheckResult> {
    const { current, changes } = await inspect(ctx, instanceIdOf(ctx));
    return changes.length === 0 ? { done: true, output: current } : { done: false, state: current };
  },

  async act(ctx) {
    const instanceId = instanceIdOf(ctx);
    const { current, changes } = await inspect(ctx, instanceId);
    for (const input of changes) {
      await send(ctx, "ec2-write", (o) => ctx.aws.ec2.send(new ModifyInstanceAttributeCommand(input), o));
    }
    const output: ProtectEvidenceOutput = {
      disableApiTermination: true,
      shutdownBehavior: "stop",
      volumes: current.volumes.map((v) => ({ ...v, deleteOnTermination: false })),
    };
    return output;
  },

  async verify(ctx) {
    const { changes } = await inspect(ctx, instanceIdOf(ctx));
    if (changes.length > 0) {
      throw new VerificationError(`evidence protection incomplete: ${changes.length} attribute(s) still unset`);
    }
  },

  async plan(ctx) {
    const { changes } = await inspect(ctx, instanceIdOf(ctx));
    return changes.map((input) => ({ service: "ec2", operation: "ModifyInstanceAttribute", params: toJsonObject(input) }));
  },

  async dryRun(ctx) {
    const { changes } = await inspect(ctx, instanceIdOf(ctx));
    const results = [];
    for (const input of changes) {
      results.push(
        await ec2DryRun(ctx, "ec2-write", "ModifyInstanceAttribute", (o) =>
          ctx.aws.ec2.send(new ModifyInstanceAttributeCommand({ ...input, DryRun: true }), o),
        ),
      );
    }
    return results;
  },
};
