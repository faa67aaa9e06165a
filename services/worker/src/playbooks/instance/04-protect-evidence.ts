// Step 4: keep the evidence. Termination protection on, an instance-initiated shutdown stops
// rather than terminates, and every EBS volume survives a termination (DeleteOnTermination
// false). Runs after isolation, which it must not delay: none of it changes what the instance
// can reach. ModifyInstanceAttribute changes one attribute per call, hence up to three calls.
import {
  DescribeInstanceAttributeCommand,
  ModifyInstanceAttributeCommand,
  type ModifyInstanceAttributeCommandInput,
} from "@aws-sdk/client-ec2";
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../engine/step.js";
import { VOLUME_ID, instanceIdOf } from "./shared/ids.js";
import { requireLiveInstance, volumesOf } from "./shared/instance.js";
import { STEP } from "./shared/names.js";
import { idOf } from "../kit/schema.js";

const protectEvidenceOutput = z.object({
  disableApiTermination: z.boolean(),
  shutdownBehavior: z.string().nullable(),
  volumes: z.array(z.object({ volumeId: idOf(VOLUME_ID), deviceName: z.string(), deleteOnTermination: z.boolean() })),
});

export type ProtectEvidenceOutput = z.infer<typeof protectEvidenceOutput>;

/** The instance's protection now, and the calls that would complete it (none when complete). */
async function inspect(
  ctx: StepContext,
  instanceId: string,
): Promise<{ current: ProtectEvidenceOutput; changes: ModifyInstanceAttributeCommandInput[] }> {
  const instance = await requireLiveInstance(ctx, instanceId);
  const termination = await ctx.read("ec2", "ec2-read", new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: "disableApiTermination" }));
  const shutdown = await ctx.read(
    "ec2",
    "ec2-read",
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: "instanceInitiatedShutdownBehavior" }),
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
  output: protectEvidenceOutput,

  async check(ctx): Promise<CheckResult> {
    const { current, changes } = await inspect(ctx, instanceIdOf(ctx));
    return changes.length === 0 ? { done: true, output: current } : { done: false, state: current };
  },

  async act(ctx) {
    const instanceId = instanceIdOf(ctx);
    const { current, changes } = await inspect(ctx, instanceId);
    for (const input of changes) {
      await ctx.change({ service: "ec2", family: "ec2-write", command: new ModifyInstanceAttributeCommand(input) });
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
};
