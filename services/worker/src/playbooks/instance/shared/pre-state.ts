import { DescribeInstanceAttributeCommand } from "@aws-sdk/client-ec2";
import { SkipRemediation, type Json, type StepContext } from "../../../engine/step.js";
import { autoScalingMembership, type AutoScalingMembership } from "./auto-scaling.js";
import { send } from "./call.js";
import {
  describeInstance,
  instanceStateName,
  isEnding,
  readEnis,
  tagsOf,
  volumesOf,
  type EniState,
  type VolumeState,
} from "./instance.js";
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
import { asArray, asBoolean, asNumber, asObject, asString, asStringOrNull, OutputShapeError } from "./json.js";
import { STEP } from "./names.js";
import type { TagPair } from "./tags.js";
import { findRegistrations, type TargetRegistration } from "./target-groups.js";

/**
 * The instance as identify found it, before this remediation changed anything: what release
 * puts back (each interface's groups, the Auto Scaling state, the target registrations) and what
 * the audit trail shows. Taken once; a re-run never overwrites it with the isolated state.
 */
export type PreState = {
  instanceId: string;
  state: string;
  vpcId: string;
  subnetId: string | null;
  enis: EniState[];
  tags: TagPair[];
  autoScaling: AutoScalingMembership | null;
  targets: TargetRegistration[];
  disableApiTermination: boolean;
  shutdownBehavior: string | null;
  volumes: VolumeState[];
  /** The policy's exemption tag, when the live instance carried it at identify (not read back by parsePreState). */
  exemptTag?: TagPair | null;
};

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
  const termination = await send(ctx, "ec2-read", (o) =>
    ctx.aws.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: "disableApiTermination" }), o),
  );
  const shutdown = await send(ctx, "ec2-read", (o) =>
    ctx.aws.ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: "instanceInitiatedShutdownBehavior" }),
      o,
    ),
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

/**
 * For plan() and dryRun(), which may run before identify did (dry-run mode): the recorded
 * pre-state, or the same reads made now.
 */
export async function preStateOrLive(ctx: StepContext, exemptTag: TagPair): Promise<PreState> {
  return recordedPreState(ctx) ?? (await collectPreState(ctx, exemptTag));
}

/** Reads a stored pre-state back, re-validating every identifier it will hand to AWS. */
export function parsePreState(value: Json): PreState {
  const o = asObject(value, "identify output");
  const instanceId = expectId(INSTANCE_ID, o.instanceId, "identify output instanceId");
  const autoScaling = o.autoScaling === null ? null : asObject(o.autoScaling, "autoScaling");
  return {
    instanceId,
    state: asString(o.state, "state"),
    vpcId: expectId(VPC_ID, o.vpcId, "identify output vpcId"),
    subnetId: o.subnetId === null ? null : expectId(SUBNET_ID, o.subnetId, "identify output subnetId"),
    enis: asArray(o.enis, "enis").map((item, i) => {
      const e = asObject(item, `enis[${i}]`);
      return {
        id: expectId(NETWORK_INTERFACE_ID, e.id, `enis[${i}].id`),
        deviceIndex: asNumber(e.deviceIndex, `enis[${i}].deviceIndex`),
        attachmentId: expectId(ENI_ATTACHMENT_ID, e.attachmentId, `enis[${i}].attachmentId`),
        vpcId: expectId(VPC_ID, e.vpcId, `enis[${i}].vpcId`),
        groupIds: asArray(e.groupIds, `enis[${i}].groupIds`).map((g) => expectId(SECURITY_GROUP_ID, g, `enis[${i}] group`)),
        privateIps: asArray(e.privateIps, `enis[${i}].privateIps`).map((ip) => expectId(IPV4_ADDRESS, ip, "a private IP")),
      };
    }),
    tags: asArray(o.tags, "tags").map((item, i) => {
      const t = asObject(item, `tags[${i}]`);
      return { key: asString(t.key, `tags[${i}].key`), value: asString(t.value, `tags[${i}].value`) };
    }),
    autoScaling: autoScaling && {
      groupName: expectId(AUTO_SCALING_GROUP_NAME, autoScaling.groupName, "autoScaling.groupName"),
      lifecycleState: asString(autoScaling.lifecycleState, "autoScaling.lifecycleState"),
    },
    targets: asArray(o.targets, "targets").map((item, i) => {
      const t = asObject(item, `targets[${i}]`);
      const targetId = asString(t.targetId, `targets[${i}].targetId`);
      return {
        targetGroupArn: expectId(TARGET_GROUP_ARN, t.targetGroupArn, `targets[${i}].targetGroupArn`),
        targetId: targetId.startsWith("i-")
          ? expectId(INSTANCE_ID, targetId, `targets[${i}].targetId`)
          : expectId(IPV4_ADDRESS, targetId, `targets[${i}].targetId`),
        port: asNumber(t.port, `targets[${i}].port`),
      };
    }),
    disableApiTermination: asBoolean(o.disableApiTermination, "disableApiTermination"),
    shutdownBehavior: asStringOrNull(o.shutdownBehavior, "shutdownBehavior"),
    volumes: asArray(o.volumes, "volumes").map((item, i) => {
      const v = asObject(item, `volumes[${i}]`);
      return {
        volumeId: expectId(VOLUME_ID, v.volumeId, `volumes[${i}].volumeId`),
        deviceName: asString(v.deviceName, `volumes[${i}].deviceName`),
        deleteOnTermination: asBoolean(v.deleteOnTermination, `volumes[${i}].deleteOnTermination`),
      };
    }),
  };
}
