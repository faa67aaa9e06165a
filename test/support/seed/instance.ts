// The Instance playbook's world in moto, seeded and read back (see README.md for the convention
// every playbook's seed module follows).
//
// Seeding: a VPC with two subnets, an instance with two network interfaces (each with two
// security groups of its own), two EBS volumes that would be deleted on termination, an Auto
// Scaling group the instance belongs to and an application load balancer's target group it is
// registered in. Returns every id a test asserts on. moto notes: the Auto Scaling group is created
// empty (desired 0) from a launch template and the instance joins it through AttachInstances,
// which moto supports (desired capacity becomes 1). moto's DescribeInstanceAttribute does not
// return blockDeviceMapping, so DeleteOnTermination is read from DescribeInstances, as the
// playbook does.
//
// Reading back: what moto holds about a seeded instance and everything around it that the
// playbook may change (tags, evidence protection, interfaces and their groups, the VPC's groups
// with rules counted, snapshots of its volumes, Auto Scaling and target group membership), read
// with plain SDK calls, never through the code under test, so tests can compare before and after
// and check containment (containmentProblems) in words.
import {
  AttachInstancesCommand,
  type AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingInstancesCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateLaunchTemplateCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
  type Instance,
  RunInstancesCommand,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { instanceFinding, setIn, type InstanceFindingOptions, type JsonObject } from "@gdr/samples/findings";
import { MOTO_ACCOUNT_ID } from "../aws-env.js";

/** The containment steps of the Instance playbook, in order (terminate only when configured). */
export const CONTAINMENT_STEPS = [
  "identify",
  "leave-auto-scaling",
  "isolate",
  "protect-evidence",
  "leave-target-groups",
  "tag",
  "snapshot-volumes",
  "malware-scan",
  "verify",
] as const;

/** The SDK clients, straight to moto, that the Instance playbook's world is seeded and read with. */
export interface SeedClients {
  ec2: EC2Client;
  autoscaling: AutoScalingClient;
  elbv2: ElasticLoadBalancingV2Client;
}

export interface SeededVpc {
  vpcId: string;
  subnetIds: [string, string];
}

export interface SeededInstance {
  vpcId: string;
  subnetId: string;
  instanceId: string;
  /** Four groups: the first two on the primary interface, the last two on the second one. */
  securityGroupIds: string[];
  primaryEniId: string;
  secondaryEniId: string;
  /** Each interface's groups as seeded. */
  eniGroups: Record<string, string[]>;
  volumeIds: string[];
  autoScalingGroupName: string | null;
  targetGroupArn: string | null;
  targetPort: number;
}

export interface SeedInstanceOptions {
  /** Reuse a VPC (several instances in one VPC); a new one when not given. */
  vpc?: SeededVpc;
  /** In an Auto Scaling group (default true). */
  autoScaling?: boolean;
  /** Registered in a load balancer's target group (default true). */
  targetGroup?: boolean;
  tags?: Record<string, string>;
}

const TARGET_PORT = 8080;
let counter = 0;

function required<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`moto did not return ${what}`);
  return value;
}

export async function seedVpc(clients: SeedClients): Promise<SeededVpc> {
  const vpc = await clients.ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }));
  const vpcId = required(vpc.Vpc?.VpcId, "a VPC id");
  const subnet = async (cidr: string, zone: string): Promise<string> => {
    const out = await clients.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: zone }));
    return required(out.Subnet?.SubnetId, "a subnet id");
  };
  return { vpcId, subnetIds: [await subnet("10.0.1.0/24", "us-east-1a"), await subnet("10.0.2.0/24", "us-east-1b")] };
}

// moto lists ~1300 built-in images (almost a second per call) and keeps them across resets:
// one look-up per client is enough.
const images = new WeakMap<EC2Client, Promise<string>>();

function anyImage(ec2: EC2Client): Promise<string> {
  let image = images.get(ec2);
  if (!image) {
    image = ec2
      .send(new DescribeImagesCommand({ Owners: ["amazon"] }))
      .then((out) => required(out.Images?.[0]?.ImageId, "an AMI"));
    images.set(ec2, image);
  }
  return image;
}

export async function seedInstance(clients: SeedClients, options: SeedInstanceOptions = {}): Promise<SeededInstance> {
  const n = ++counter;
  const vpc = options.vpc ?? (await seedVpc(clients));
  const subnetId = vpc.subnetIds[0];
  const securityGroupIds: string[] = [];
  for (const letter of ["a", "b", "c", "d"]) {
    const out = await clients.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: `app-${n}-${letter}`, Description: `app ${letter}`, VpcId: vpc.vpcId }),
    );
    securityGroupIds.push(required(out.GroupId, "a security group id"));
  }
  const [a, b, c, d] = securityGroupIds as [string, string, string, string];
  const imageId = await anyImage(clients.ec2);
  const tags = Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));

  const run = await clients.ec2.send(
    new RunInstancesCommand({
      ImageId: imageId,
      InstanceType: "t3.micro",
      MinCount: 1,
      MaxCount: 1,
      InstanceInitiatedShutdownBehavior: "terminate",
      NetworkInterfaces: [
        { DeviceIndex: 0, SubnetId: subnetId, Groups: [a, b] },
        { DeviceIndex: 1, SubnetId: subnetId, Groups: [c, d] },
      ],
      BlockDeviceMappings: [
        { DeviceName: "/dev/sda1", Ebs: { VolumeSize: 8, DeleteOnTermination: true } },
        { DeviceName: "/dev/sdf", Ebs: { VolumeSize: 4, DeleteOnTermination: true } },
      ],
      ...(tags.length > 0 ? { TagSpecifications: [{ ResourceType: "instance", Tags: tags }] } : {}),
    }),
  );
  const instance = required(run.Instances?.[0], "an instance");
  const instanceId = required(instance.InstanceId, "an instance id");
  const enis = [...(instance.NetworkInterfaces ?? [])].sort(
    (x, y) => (x.Attachment?.DeviceIndex ?? 0) - (y.Attachment?.DeviceIndex ?? 0),
  );
  const primaryEniId = required(enis[0]?.NetworkInterfaceId, "the primary interface");
  const secondaryEniId = required(enis[1]?.NetworkInterfaceId, "the second interface");
  const volumeIds = (instance.BlockDeviceMappings ?? []).map((m) => required(m.Ebs?.VolumeId, "a volume id"));

  let autoScalingGroupName: string | null = null;
  if (options.autoScaling ?? true) {
    autoScalingGroupName = `asg-${n}`;
    await clients.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: `lt-${n}`,
        LaunchTemplateData: { ImageId: imageId, InstanceType: "t3.micro" },
      }),
    );
    await clients.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: autoScalingGroupName,
        LaunchTemplate: { LaunchTemplateName: `lt-${n}`, Version: "$Latest" },
        MinSize: 0,
        MaxSize: 3,
        DesiredCapacity: 0,
        VPCZoneIdentifier: subnetId,
      }),
    );
    await clients.autoscaling.send(
      new AttachInstancesCommand({ AutoScalingGroupName: autoScalingGroupName, InstanceIds: [instanceId] }),
    );
  }

  let targetGroupArn: string | null = null;
  if (options.targetGroup ?? true) {
    const group = await clients.elbv2.send(
      new CreateTargetGroupCommand({
        Name: `tg-${n}`,
        Protocol: "HTTP",
        Port: 80,
        VpcId: vpc.vpcId,
        TargetType: "instance",
      }),
    );
    targetGroupArn = required(group.TargetGroups?.[0]?.TargetGroupArn, "a target group ARN");
    const lb = await clients.elbv2.send(
      new CreateLoadBalancerCommand({ Name: `alb-${n}`, Subnets: vpc.subnetIds, Type: "application" }),
    );
    await clients.elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: required(lb.LoadBalancers?.[0]?.LoadBalancerArn, "a load balancer ARN"),
        Protocol: "HTTP",
        Port: 80,
        DefaultActions: [{ Type: "forward", TargetGroupArn: targetGroupArn }],
      }),
    );
    await clients.elbv2.send(
      new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId, Port: TARGET_PORT }] }),
    );
  }

  return {
    vpcId: vpc.vpcId,
    subnetId,
    instanceId,
    securityGroupIds,
    primaryEniId,
    secondaryEniId,
    eniGroups: { [primaryEniId]: [a, b], [secondaryEniId]: [c, d] },
    volumeIds,
    autoScalingGroupName,
    targetGroupArn,
    targetPort: TARGET_PORT,
  };
}

/** A finding on an instance moto really holds: its ids, interfaces, groups, VPC and subnet. */
export function findingFor(instance: SeededInstance, options: InstanceFindingOptions = {}): JsonObject {
  const detail = instanceFinding({ accountId: MOTO_ACCOUNT_ID, ...options, instanceId: instance.instanceId, eniCount: 2 });
  const interfaces = [instance.primaryEniId, instance.secondaryEniId].map((id, i) => ({
    networkInterfaceId: id,
    privateIpAddress: `10.0.1.${20 + i}`,
    subnetId: instance.subnetId,
    vpcId: instance.vpcId,
    securityGroups: (instance.eniGroups[id] ?? []).map((groupId) => ({ groupId, groupName: groupId })),
  }));
  setIn(detail, ["resource", "instanceDetails", "networkInterfaces"], interfaces);
  return detail;
}

// ---------------------------------------------------------------------------------------------
// Reading back.

/** The playbook's names, written out here so that a renamed tag or group fails the tests. */
export const ISOLATION_GROUP_NAME = "guardduty-responder-isolation";
/** The transit group every interface passes through on its way into the isolation (containment) group. */
export const TRANSIT_GROUP_NAME = "guardduty-responder-transit";
/** Both groups isolation adds to a VPC: what "nothing else of the VPC changed" leaves out. */
export const RESPONDER_GROUP_NAMES: readonly string[] = [ISOLATION_GROUP_NAME, TRANSIT_GROUP_NAME];
export const RESPONDER_TAG = {
  findingId: "guardduty-responder:finding-id",
  remediationId: "guardduty-responder:remediation-id",
  state: "guardduty-responder:state",
  role: "guardduty-responder:role",
  sourceVolume: "guardduty-responder:source-volume-id",
  instanceId: "guardduty-responder:instance-id",
} as const;

export interface EniView {
  id: string;
  groupIds: string[];
}

export interface GroupView {
  id: string;
  name: string;
  vpcId: string;
  ingress: number;
  egress: number;
  tags: Record<string, string>;
}

export interface SnapshotView {
  id: string;
  volumeId: string;
  tags: Record<string, string>;
}

/** Everything about one instance and its surroundings that containment may change. */
export interface InstanceView {
  state: string;
  tags: Record<string, string>;
  volumes: { volumeId: string; deleteOnTermination: boolean }[];
  disableApiTermination: boolean;
  shutdownBehavior: string | null;
  enis: EniView[];
  /** Every security group of the instance's VPC, rules counted. */
  vpcGroups: GroupView[];
  /** The containment groups (the isolation group's name): rule-less, every interface in one. */
  isolationGroups: GroupView[];
  /** The transit groups: all-traffic egress, no interface of a contained instance in them. */
  transitGroups: GroupView[];
  /** Snapshots of the instance's volumes. */
  snapshots: SnapshotView[];
  autoScaling: { group: string; lifecycleState: string } | null;
  /** Registrations of the instance in the seeded target group (id:port). */
  registered: string[];
}

function tagMap(tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined): Record<string, string> {
  const entries = (tags ?? []).map((t): [string, string] => [t.Key ?? "", t.Value ?? ""]);
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

function ruleEntries(group: SecurityGroup, direction: "IpPermissions" | "IpPermissionsEgress"): number {
  return (group[direction] ?? []).reduce(
    (sum, p) => sum + (p.IpRanges?.length ?? 0) + (p.Ipv6Ranges?.length ?? 0) + (p.PrefixListIds?.length ?? 0) + (p.UserIdGroupPairs?.length ?? 0),
    0,
  );
}

function groupView(g: SecurityGroup): GroupView {
  return {
    id: g.GroupId ?? "",
    name: g.GroupName ?? "",
    vpcId: g.VpcId ?? "",
    ingress: ruleEntries(g, "IpPermissions"),
    egress: ruleEntries(g, "IpPermissionsEgress"),
    tags: tagMap(g.Tags),
  };
}

async function describeInstance(clients: SeedClients, instanceId: string): Promise<Instance> {
  const out = await clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const instance = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
  if (!instance) throw new Error(`moto does not know ${instanceId}`);
  return instance;
}

export async function vpcGroups(clients: SeedClients, vpcId: string): Promise<GroupView[]> {
  const out = await clients.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }));
  return (out.SecurityGroups ?? []).map(groupView).sort((a, b) => a.id.localeCompare(b.id));
}

export async function viewInstance(clients: SeedClients, seeded: SeededInstance): Promise<InstanceView> {
  const { ec2, autoscaling, elbv2 } = clients;
  const instance = await describeInstance(clients, seeded.instanceId);
  const termination = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: seeded.instanceId, Attribute: "disableApiTermination" }));
  const shutdown = await ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: seeded.instanceId, Attribute: "instanceInitiatedShutdownBehavior" }),
  );
  const enis = await ec2.send(
    new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [seeded.instanceId] }] }),
  );
  const groups = await vpcGroups(clients, seeded.vpcId);
  const snapshots = await ec2.send(
    new DescribeSnapshotsCommand({ OwnerIds: ["self"], Filters: [{ Name: "volume-id", Values: seeded.volumeIds }] }),
  );
  const asg = await autoscaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [seeded.instanceId] }));
  const membership = (asg.AutoScalingInstances ?? []).find((i) => i.InstanceId === seeded.instanceId);
  let registered: string[] = [];
  if (seeded.targetGroupArn) {
    const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: seeded.targetGroupArn }));
    registered = (health.TargetHealthDescriptions ?? [])
      .filter((d) => d.Target?.Id === seeded.instanceId && d.TargetHealth?.State !== "draining")
      .map((d) => `${d.Target?.Id ?? ""}:${d.Target?.Port ?? ""}`)
      .sort();
  }
  return {
    state: instance.State?.Name ?? "unknown",
    tags: tagMap(instance.Tags),
    volumes: (instance.BlockDeviceMappings ?? [])
      .map((m) => ({ volumeId: m.Ebs?.VolumeId ?? "", deleteOnTermination: m.Ebs?.DeleteOnTermination ?? false }))
      .sort((a, b) => a.volumeId.localeCompare(b.volumeId)),
    disableApiTermination: termination.DisableApiTermination?.Value ?? false,
    shutdownBehavior: shutdown.InstanceInitiatedShutdownBehavior?.Value ?? null,
    enis: (enis.NetworkInterfaces ?? [])
      .map((e) => ({ id: e.NetworkInterfaceId ?? "", groupIds: (e.Groups ?? []).map((g) => g.GroupId ?? "").sort() }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    vpcGroups: groups,
    isolationGroups: groups.filter((g) => g.name === ISOLATION_GROUP_NAME),
    transitGroups: groups.filter((g) => g.name === TRANSIT_GROUP_NAME),
    snapshots: (snapshots.Snapshots ?? [])
      .map((s) => ({ id: s.SnapshotId ?? "", volumeId: s.VolumeId ?? "", tags: tagMap(s.Tags) }))
      .sort((a, b) => a.volumeId.localeCompare(b.volumeId) || a.id.localeCompare(b.id)),
    autoScaling: membership ? { group: membership.AutoScalingGroupName ?? "", lifecycleState: membership.LifecycleState ?? "" } : null,
    registered,
  };
}

/** The seeded interfaces with their seeded groups, in the shape InstanceView.enis has. */
export function seededEnis(seeded: SeededInstance): EniView[] {
  return Object.entries(seeded.eniGroups)
    .map(([id, groupIds]) => ({ id, groupIds: [...groupIds].sort() }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * What is not as containment promised, in words (empty when contained): one rule-less isolation
 * (containment) group in the VPC, every interface only in it, at most one transit group (egress
 * only, tagged with its role), the remediation's tags, one tagged snapshot per
 * volume, evidence protection, out of the Auto Scaling group's and the target group's service.
 */
export function containmentProblems(view: InstanceView, seeded: SeededInstance, ids: { findingId: string; remediationId: string }): string[] {
  const problems: string[] = [];
  const [group, ...more] = view.isolationGroups;
  if (!group || more.length > 0) problems.push(`${view.isolationGroups.length} isolation groups in ${seeded.vpcId}`);
  if (group && (group.ingress !== 0 || group.egress !== 0)) problems.push(`isolation group has rules (${group.ingress} in, ${group.egress} out)`);
  if (group && group.tags[RESPONDER_TAG.role] !== "isolation") problems.push("isolation group is not tagged with its role");
  if (view.transitGroups.length > 1) problems.push(`${view.transitGroups.length} transit groups in ${seeded.vpcId}`);
  for (const transit of view.transitGroups) {
    if (transit.ingress !== 0) problems.push(`transit group has ${transit.ingress} ingress rules`);
    if (transit.tags[RESPONDER_TAG.role] !== "isolation-transit") problems.push("transit group is not tagged with its role");
  }
  if (view.enis.length !== 2) problems.push(`${view.enis.length} interfaces`);
  for (const eni of view.enis) {
    if (!group || eni.groupIds.length !== 1 || eni.groupIds[0] !== group.id) problems.push(`${eni.id} has [${eni.groupIds.join(", ")}]`);
  }
  const wantedTags = { [RESPONDER_TAG.findingId]: ids.findingId, [RESPONDER_TAG.remediationId]: ids.remediationId, [RESPONDER_TAG.state]: "isolated" };
  for (const [key, value] of Object.entries(wantedTags)) {
    if (view.tags[key] !== value) problems.push(`tag ${key} is ${view.tags[key] ?? "missing"}`);
  }
  for (const volumeId of seeded.volumeIds) {
    const snapshots = view.snapshots.filter((s) => s.volumeId === volumeId);
    if (snapshots.length !== 1) problems.push(`${snapshots.length} snapshots of ${volumeId}`);
    for (const s of snapshots) {
      const expected = {
        [RESPONDER_TAG.findingId]: ids.findingId,
        [RESPONDER_TAG.remediationId]: ids.remediationId,
        [RESPONDER_TAG.sourceVolume]: volumeId,
        [RESPONDER_TAG.instanceId]: seeded.instanceId,
      };
      for (const [key, value] of Object.entries(expected)) {
        if (s.tags[key] !== value) problems.push(`snapshot ${s.id} tag ${key} is ${s.tags[key] ?? "missing"}`);
      }
    }
  }
  if (!view.disableApiTermination) problems.push("termination protection is off");
  if (view.shutdownBehavior !== "stop") problems.push(`shutdown behaviour is ${view.shutdownBehavior ?? "unset"}`);
  if (view.volumes.some((v) => v.deleteOnTermination)) problems.push("a volume is deleted on termination");
  if (seeded.autoScalingGroupName && !["Standby", "Detached"].includes(view.autoScaling?.lifecycleState ?? "Detached")) {
    problems.push(`Auto Scaling lifecycle state ${view.autoScaling?.lifecycleState ?? "?"}`);
  }
  if (view.registered.length > 0) problems.push(`still registered: ${view.registered.join(", ")}`);
  if (view.state !== "running") problems.push(`instance is ${view.state}`);
  return problems;
}
