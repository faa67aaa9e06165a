import { DescribeInstanceAttributeCommand } from "@aws-sdk/client-ec2";
import { z } from "zod";
import { SkipRemediation, type Json, type StepContext } from "../../../engine/step.js";
import { OutputShapeError, parseOutput } from "../../kit/json.js";
import { autoScalingMembership } from "./auto-scaling.js";
import { describeInstance, instanceStateName, isEnding, readEnis, tagsOf, volumesOf } from "./instance.js";
import {
  AUTO_SCALING_GROUP_NAME,
  ENI_ATTACHMENT_ID,
  INSTANCE_ID,
  IPV4_ADDRESS,
  NETWORK_INTERFACE_ID,
  SECURITY_GROUP_ID,
  SUBNET_ID,
  TARGET_GROUP_ARN,
  VOLUME_ID,
  VPC_ID,
  expectId,
  instanceIdOf,
} from "./ids.js";
import { STEP } from "./names.js";
import { idOf } from "../../kit/schema.js";
import type { TagPair } from "./tags.js";
import { findRegistrations } from "./target-groups.js";

const tagPair = z.object({ key: z.string(), value: z.string() });

/** One network interface attached to the instance (instance.ts EniState), as recorded. */
export const eniSchema = z.object({
  id: idOf(NETWORK_INTERFACE_ID),
  deviceIndex: z.number().int(),
  attachmentId: idOf(ENI_ATTACHMENT_ID),
  vpcId: idOf(VPC_ID),
  groupIds: z.array(idOf(SECURITY_GROUP_ID)),
  privateIps: z.array(idOf(IPV4_ADDRESS)),
});

/** A target registration (target-groups.ts TargetRegistration), as recorded. */
export const targetSchema = z.object({
  targetGroupArn: idOf(TARGET_GROUP_ARN),
  // By instance id or by one of its private IPs, after the target group's type.
  targetId: z.union([idOf(INSTANCE_ID), idOf(IPV4_ADDRESS)]),
  port: z.number().int(),
});

/**
 * The instance as identify found it, before this remediation changed anything: what release
 * puts back (each interface's groups, the Auto Scaling state, the target registrations) and what
 * the audit trail shows. Taken once; a re-run never overwrites it with the isolated state.
 * identify's output schema: every identifier in it is checked again when it is read back.
 */
export const preStateSchema = z.object({
  instanceId: idOf(INSTANCE_ID),
  state: z.string(),
  vpcId: idOf(VPC_ID),
  subnetId: idOf(SUBNET_ID).nullable(),
  enis: z.array(eniSchema),
  tags: z.array(tagPair),
  autoScaling: z.object({ groupName: idOf(AUTO_SCALING_GROUP_NAME), lifecycleState: z.string() }).nullable(),
  targets: z.array(targetSchema),
  disableApiTermination: z.boolean(),
  shutdownBehavior: z.string().nullable(),
  volumes: z.array(z.object({ volumeId: idOf(VOLUME_ID), deviceName: z.string(), deleteOnTermination: z.boolean() })),
  /** The policy's exemption tag, when the live instance carried it at identify. */
  exemptTag: tagPair.nullable().default(null),
});

export type PreState = z.infer<typeof preStateSchema>;

/**
 * Reads the instance and everything around it. Throws SkipRemediation when there is nothing to
 * contain: the instance is unknown, terminated or shutting down. An exemption tag on the live
 * instance is recorded (`exemptTag`), not obeyed: the workload may have tagged itself, so the
 * engine asks a person instead of skipping (identify's holdFor).
 */
export async function collectPreState(ctx: StepContext, exemptTag: TagPair): Promise<PreState> {
  const instanceId = instanceIdOf(ctx);
  const instance = await describeInstance(ctx, instanceId);
  if (!instance) throw new SkipRemediation("resource_gone", `instance ${instanceId} does not exist`);
  if (isEnding(instance)) {
    throw new SkipRemediation("resource_terminated", `instance ${instanceId} is ${instanceStateName(instance)}`);
  }
  const tags = tagsOf(instance);
  const exempt = tags.some((t) => t.key === exemptTag.key && t.value === exemptTag.value);
  const vpcId = expectId(VPC_ID, instance.VpcId, `the VPC of ${instanceId}`);
  const subnetId = instance.SubnetId ? expectId(SUBNET_ID, instance.SubnetId, `the subnet of ${instanceId}`) : null;

  const enis = await readEnis(ctx, instanceId);
  const autoScaling = await autoScalingMembership(ctx, instanceId);
  const targets = await findRegistrations(
    ctx,
    vpcId,
    instanceId,
    enis.flatMap((e) => e.privateIps),
  );
  const termination = await ctx.read("ec2", "ec2-read", new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: "disableApiTermination" }));
  const shutdown = await ctx.read(
    "ec2",
    "ec2-read",
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: "instanceInitiatedShutdownBehavior" }),
  );

  return {
    instanceId,
    state: instanceStateName(instance),
    vpcId,
    subnetId,
    enis,
    tags,
    autoScaling,
    targets,
    disableApiTermination: termination.DisableApiTermination?.Value ?? false,
    shutdownBehavior: shutdown.InstanceInitiatedShutdownBehavior?.Value ?? null,
    volumes: volumesOf(instance),
    exemptTag: exempt ? { key: exemptTag.key, value: exemptTag.value } : null,
  };
}

/** identify's recorded output, or null when identify has not run in this remediation. */
export function recordedPreState(ctx: StepContext): PreState | null {
  const recorded = ctx.outputs.get(STEP.identify);
  return recorded === undefined ? null : parsePreState(recorded);
}

/** identify's recorded output; release and the steps after identify cannot work without it. */
export function requirePreState(ctx: StepContext): PreState {
  const pre = recordedPreState(ctx);
  if (!pre) throw new OutputShapeError("identify has no recorded output in this remediation: its pre-state is missing");
  if (pre.instanceId !== ctx.remediation.resourceKey) {
    throw new OutputShapeError(`identify's output is for ${pre.instanceId}, not ${ctx.remediation.resourceKey}`);
  }
  return pre;
}

/** Reads a stored pre-state back, re-validating every identifier it will hand to AWS. */
export function parsePreState(value: Json): PreState {
  return parseOutput(preStateSchema, value, "identify's output");
}
