// What moto holds about an instance seedInstance made, and everything around it that the Instance
// playbook may change: tags, evidence protection, interfaces and their groups, the VPC's groups
// (rules counted), snapshots of its volumes, Auto Scaling and target group membership. Read with
// plain SDK calls, never through the code under test, so tests can compare before and after and
// check containment (containmentProblems) in words.
import { DescribeAutoScalingInstancesCommand } from "@aws-sdk/client-auto-scaling";
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  type Instance,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import { DescribeTargetHealthCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { SeedClients, SeededInstance } from "./seed-instance.js";

/** The playbook's names, written out here so that a renamed tag or group fails the tests. */
export const ISOLATION_GROUP_NAME = "guardduty-responder-isolation";
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
  isolationGroups: GroupView[];
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
 * group in the VPC, every interface only in it, the remediation's tags, one tagged snapshot per
 * volume, evidence protection, out of the Auto Scaling group's and the target group's service.
 */
export function containmentProblems(view: InstanceView, seeded: SeededInstance, ids: { findingId: string; remediationId: string }): string[] {
  const problems: string[] = [];
  const [group, ...more] = view.isolationGroups;
  if (!group || more.length > 0) problems.push(`${view.isolationGroups.length} isolation groups in ${seeded.vpcId}`);
  if (group && (group.ingress !== 0 || group.egress !== 0)) problems.push(`isolation group has rules (${group.ingress} in, ${group.egress} out)`);
  if (group && group.tags[RESPONDER_TAG.role] !== "isolation") problems.push("isolation group is not tagged with its role");
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
