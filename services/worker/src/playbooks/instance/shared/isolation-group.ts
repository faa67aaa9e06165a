import {
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type AuthorizeSecurityGroupEgressCommandInput,
  type CreateSecurityGroupCommandInput,
  type IpPermission,
  type RevokeSecurityGroupEgressCommandInput,
  type RevokeSecurityGroupIngressCommandInput,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import type { StepContext } from "../../../engine/step.js";
import { send } from "./call.js";
import { errorName } from "./errors.js";
import { SECURITY_GROUP_ID, expectId } from "./ids.js";
import { ISOLATION_GROUP_DESCRIPTION, ISOLATION_GROUP_NAME, ISOLATION_ROLE, TAG_ROLE } from "./tags.js";

/**
 * The isolation group's one temporary rule: all traffic, all ports, to 0.0.0.0/0, outbound.
 *
 * Why add a rule only to remove it: security groups are stateful, and changing an interface's
 * groups does not interrupt connections that are being tracked; they live on until they time
 * out. A flow permitted by an all-traffic 0.0.0.0/0 rule can be left untracked, and removing the
 * rule that permitted an untracked flow stops it at once. So every interface is first moved to
 * the group while it holds that rule, and the rule is then revoked: the end state is a group
 * with no rules at all. (EC2 tracks a flow unless all-traffic rules permit it in both
 * directions, and a connection AWS tracks anyway keeps its state: only a network ACL cuts those
 * for certain. This step does what the design asks; see the playbook README.)
 */
export const ALL_TRAFFIC_EGRESS: IpPermission = { IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] };

export function lockName(vpcId: string): string {
  return `isolation-sg:${vpcId}`;
}

export function createGroupInput(vpcId: string): CreateSecurityGroupCommandInput {
  return {
    GroupName: ISOLATION_GROUP_NAME,
    Description: ISOLATION_GROUP_DESCRIPTION,
    VpcId: vpcId,
    // Tagged in the same call: there is never an untagged isolation group to find again.
    TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: TAG_ROLE, Value: ISOLATION_ROLE }] }],
  };
}

export function authorizeInput(groupId: string): AuthorizeSecurityGroupEgressCommandInput {
  return { GroupId: groupId, IpPermissions: [ALL_TRAFFIC_EGRESS] };
}

export function revokeAllTrafficInput(groupId: string): RevokeSecurityGroupEgressCommandInput {
  return { GroupId: groupId, IpPermissions: [ALL_TRAFFIC_EGRESS] };
}

function isTagged(group: SecurityGroup): boolean {
  return (group.Tags ?? []).some((t) => t.Key === TAG_ROLE && t.Value === ISOLATION_ROLE);
}

async function describeGroups(
  ctx: StepContext,
  vpcId: string,
  withTag: boolean,
): Promise<SecurityGroup[]> {
  const filters = [
    { Name: "vpc-id", Values: [vpcId] },
    { Name: "group-name", Values: [ISOLATION_GROUP_NAME] },
    ...(withTag ? [{ Name: `tag:${TAG_ROLE}`, Values: [ISOLATION_ROLE] }] : []),
  ];
  const out = await send(ctx, "ec2-read", (o) =>
    ctx.aws.ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters }), o),
  );
  return (out.SecurityGroups ?? []).filter((g) => g.VpcId === vpcId && g.GroupName === ISOLATION_GROUP_NAME);
}

/**
 * The group as it is between two isolation sequences: read under the VPC's lock, because while
 * another instance is being isolated the group holds its temporary rule, and a check or a verify
 * reading then would see rules that are about to go.
 */
export async function settledIsolationGroup(ctx: StepContext, vpcId: string): Promise<SecurityGroup | null> {
  return ctx.withLock(lockName(vpcId), () => findIsolationGroup(ctx, vpcId));
}

/** The VPC's isolation group, found by VPC, name and role tag; null when there is none yet. */
export async function findIsolationGroup(ctx: StepContext, vpcId: string): Promise<SecurityGroup | null> {
  const [group] = await describeGroups(ctx, vpcId, true);
  if (!group) return null;
  expectId(SECURITY_GROUP_ID, group.GroupId, "the isolation group id");
  return group;
}

export function groupIdOf(group: SecurityGroup): string {
  return expectId(SECURITY_GROUP_ID, group.GroupId, "the isolation group id");
}

/** Someone else's group holds our name in this VPC: refuse to put instances into it. */
export class IsolationGroupConflictError extends Error {
  override readonly name = "IsolationGroupConflictError";
}

/**
 * Finds or creates the VPC's isolation group. Group names are unique per VPC, so two workers
 * creating at once cannot make two: the loser gets InvalidGroup.Duplicate and uses the winner's.
 */
export async function ensureIsolationGroup(
  ctx: StepContext,
  vpcId: string,
): Promise<{ groupId: string; created: boolean; group: SecurityGroup | null }> {
  const found = await findIsolationGroup(ctx, vpcId);
  if (found) return { groupId: groupIdOf(found), created: false, group: found };
  try {
    const out = await send(ctx, "ec2-write", (o) =>
      ctx.aws.ec2.send(new CreateSecurityGroupCommand(createGroupInput(vpcId)), o),
    );
    ctx.logger.info({ vpcId, groupId: out.GroupId }, "created the isolation security group");
    // A new group may not be visible to Describe* yet (eventual consistency): its rules are
    // known anyway, the default egress rule, which is exactly the temporary rule we want.
    return { groupId: expectId(SECURITY_GROUP_ID, out.GroupId, "the new isolation group id"), created: true, group: null };
  } catch (err) {
    if (errorName(err) !== "InvalidGroup.Duplicate") throw err;
    const [existing] = await describeGroups(ctx, vpcId, false);
    if (!existing) throw err;
    if (!isTagged(existing)) {
      throw new IsolationGroupConflictError(
        `a security group named ${ISOLATION_GROUP_NAME} exists in ${vpcId} without the tag ${TAG_ROLE}=${ISOLATION_ROLE}`,
      );
    }
    return { groupId: groupIdOf(existing), created: false, group: existing };
  }
}

function ruleEntries(p: IpPermission): number {
  return (
    (p.IpRanges?.length ?? 0) +
    (p.Ipv6Ranges?.length ?? 0) +
    (p.PrefixListIds?.length ?? 0) +
    (p.UserIdGroupPairs?.length ?? 0)
  );
}

export function hasNoRules(group: SecurityGroup): boolean {
  return [...(group.IpPermissions ?? []), ...(group.IpPermissionsEgress ?? [])].every((p) => ruleEntries(p) === 0);
}

export function hasAllTrafficEgress(group: SecurityGroup): boolean {
  return (group.IpPermissionsEgress ?? []).some(
    (p) => p.IpProtocol === "-1" && (p.IpRanges ?? []).some((r) => r.CidrIp === "0.0.0.0/0"),
  );
}

/** The permission with only what names the rule (revocations match on these, not descriptions). */
function bare(p: IpPermission, keepAllTrafficV4: boolean): IpPermission | null {
  const allTraffic = p.IpProtocol === "-1";
  const ipRanges = (p.IpRanges ?? [])
    .filter((r) => !(keepAllTrafficV4 && allTraffic && r.CidrIp === "0.0.0.0/0"))
    .map((r) => ({ CidrIp: r.CidrIp }));
  const out: IpPermission = {
    IpProtocol: p.IpProtocol,
    ...(p.FromPort !== undefined ? { FromPort: p.FromPort } : {}),
    ...(p.ToPort !== undefined ? { ToPort: p.ToPort } : {}),
    IpRanges: ipRanges,
    Ipv6Ranges: (p.Ipv6Ranges ?? []).map((r) => ({ CidrIpv6: r.CidrIpv6 })),
    PrefixListIds: (p.PrefixListIds ?? []).map((r) => ({ PrefixListId: r.PrefixListId })),
    UserIdGroupPairs: (p.UserIdGroupPairs ?? []).map((r) => ({
      GroupId: r.GroupId,
      ...(r.UserId ? { UserId: r.UserId } : {}),
    })),
  };
  return ruleEntries(out) === 0 ? null : out;
}

/**
 * What must go for the group to be exactly "no ingress, one all-traffic 0.0.0.0/0 egress rule":
 * every ingress rule, and every egress rule but that one (e.g. an IPv6 default, or rules someone
 * added by hand).
 */
export function strayRuleRevocations(
  group: SecurityGroup,
): { ingress: RevokeSecurityGroupIngressCommandInput[]; egress: RevokeSecurityGroupEgressCommandInput[] } {
  const groupId = groupIdOf(group);
  const ingress = (group.IpPermissions ?? []).map((p) => bare(p, false)).filter((p) => p !== null);
  const egress = (group.IpPermissionsEgress ?? []).map((p) => bare(p, true)).filter((p) => p !== null);
  return {
    ingress: ingress.length > 0 ? [{ GroupId: groupId, IpPermissions: ingress }] : [],
    egress: egress.length > 0 ? [{ GroupId: groupId, IpPermissions: egress }] : [],
  };
}

/** Adds the temporary rule; already there (another worker's crash left it) is fine. */
export async function authorizeAllTraffic(ctx: StepContext, groupId: string): Promise<void> {
  try {
    await send(ctx, "ec2-write", (o) =>
      ctx.aws.ec2.send(new AuthorizeSecurityGroupEgressCommand(authorizeInput(groupId)), o),
    );
  } catch (err) {
    if (errorName(err) !== "InvalidPermission.Duplicate") throw err;
  }
}

/** Removes the temporary rule; already gone is fine. */
export async function revokeAllTraffic(ctx: StepContext, groupId: string): Promise<void> {
  try {
    await send(ctx, "ec2-write", (o) =>
      ctx.aws.ec2.send(new RevokeSecurityGroupEgressCommand(revokeAllTrafficInput(groupId)), o),
    );
  } catch (err) {
    if (errorName(err) !== "InvalidPermission.NotFound") throw err;
  }
}

export async function revokeStray(ctx: StepContext, group: SecurityGroup): Promise<void> {
  const stray = strayRuleRevocations(group);
  for (const input of stray.ingress) {
    await send(ctx, "ec2-write", (o) => ctx.aws.ec2.send(new RevokeSecurityGroupIngressCommand(input), o));
  }
  for (const input of stray.egress) {
    await send(ctx, "ec2-write", (o) => ctx.aws.ec2.send(new RevokeSecurityGroupEgressCommand(input), o));
  }
}
