import {
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  type Instance,
  type NetworkInterface,
} from "@aws-sdk/client-ec2";
import { SkipRemediation, type StepContext } from "../../../engine/step.js";
import { errorName } from "../../kit/errors.js";
import {
  ENI_ATTACHMENT_ID,
  IPV4_ADDRESS,
  NETWORK_INTERFACE_ID,
  SECURITY_GROUP_ID,
  VOLUME_ID,
  VPC_ID,
  expectId,
} from "./ids.js";
import type { TagPair } from "./tags.js";

/** One network interface attached to the instance, as it is now. */
export type EniState = {
  id: string;
  deviceIndex: number;
  attachmentId: string;
  vpcId: string;
  groupIds: string[];
  privateIps: string[];
};

export type VolumeState = {
  volumeId: string;
  deviceName: string;
  deleteOnTermination: boolean;
};

/** The instance as DescribeInstances shows it, or null when EC2 does not know the id (any more). */
export async function describeInstance(ctx: StepContext, instanceId: string): Promise<Instance | null> {
  try {
    const out = await ctx.read("ec2", "ec2-read", new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const found = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
    return found ?? null;
  } catch (err) {
    if (errorName(err) === "InvalidInstanceID.NotFound") return null;
    throw err;
  }
}

export function instanceStateName(instance: Instance): string {
  return instance.State?.Name ?? "unknown";
}

/** Gone for good, or about to be: nothing to contain. */
export function isEnding(instance: Instance): boolean {
  const state = instanceStateName(instance);
  return state === "terminated" || state === "shutting-down";
}

export function tagsOf(instance: Instance): TagPair[] {
  return (instance.Tags ?? []).map((t) => ({ key: t.Key ?? "", value: t.Value ?? "" }));
}

export function tagValue(instance: Instance, key: string): string | undefined {
  return instance.Tags?.find((t) => t.Key === key)?.Value;
}

/** Every EBS volume attached through a block device mapping, with its DeleteOnTermination flag. */
export function volumesOf(instance: Instance): VolumeState[] {
  const volumes: VolumeState[] = [];
  for (const mapping of instance.BlockDeviceMappings ?? []) {
    if (!mapping.Ebs?.VolumeId || !mapping.DeviceName) continue;
    volumes.push({
      volumeId: expectId(VOLUME_ID, mapping.Ebs.VolumeId, "a volume id from DescribeInstances"),
      deviceName: mapping.DeviceName,
      deleteOnTermination: mapping.Ebs.DeleteOnTermination ?? false,
    });
  }
  return volumes;
}

/**
 * Every network interface attached to the instance (DescribeNetworkInterfaces filtered on the
 * attachment), in device order. Each may sit in a VPC of its own (multi-VPC attachments), so the
 * VPC is read per interface. Identifiers are re-validated before anyone passes them on.
 */
export async function readEnis(ctx: StepContext, instanceId: string): Promise<EniState[]> {
  const interfaces: NetworkInterface[] = [];
  let nextToken: string | undefined;
  do {
    const out = await ctx.read(
      "ec2",
      "ec2-read",
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: "attachment.instance-id", Values: [instanceId] }],
        ...(nextToken ? { NextToken: nextToken } : {}),
      }),
    );
    interfaces.push(...(out.NetworkInterfaces ?? []));
    nextToken = out.NextToken;
  } while (nextToken);

  return interfaces
    .filter((eni) => eni.Attachment?.InstanceId === instanceId || eni.Attachment?.InstanceId === undefined)
    .map((eni) => toEniState(eni))
    .sort((a, b) => a.deviceIndex - b.deviceIndex || a.id.localeCompare(b.id));
}

function toEniState(eni: NetworkInterface): EniState {
  const id = expectId(NETWORK_INTERFACE_ID, eni.NetworkInterfaceId, "a network interface id");
  return {
    id,
    deviceIndex: eni.Attachment?.DeviceIndex ?? 0,
    attachmentId: expectId(ENI_ATTACHMENT_ID, eni.Attachment?.AttachmentId, `the attachment of ${id}`),
    vpcId: expectId(VPC_ID, eni.VpcId, `the VPC of ${id}`),
    groupIds: (eni.Groups ?? []).map((g) => expectId(SECURITY_GROUP_ID, g.GroupId, `a security group of ${id}`)),
    privateIps: (eni.PrivateIpAddresses ?? [])
      .map((a) => a.PrivateIpAddress)
      .filter((ip): ip is string => typeof ip === "string" && IPV4_ADDRESS.regex.test(ip)),
  };
}

/** Same members, order ignored: security groups on an interface are a set. */
export function sameGroups(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((g) => right.has(g));
}

/**
 * The instance for a step after identify. If it disappeared or is terminating meanwhile there is
 * nothing left to contain, which ends the remediation the same way identify would have.
 */
export async function requireLiveInstance(ctx: StepContext, instanceId: string): Promise<Instance> {
  const instance = await describeInstance(ctx, instanceId);
  if (!instance) throw new SkipRemediation("resource_gone", `instance ${instanceId} no longer exists`);
  if (isEnding(instance)) {
    throw new SkipRemediation("resource_terminated", `instance ${instanceId} is ${instanceStateName(instance)}`);
  }
  return instance;
}
