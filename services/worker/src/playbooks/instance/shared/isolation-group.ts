import { randomBytes } from "node:crypto";
import {
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupEgressCommand,
  type AuthorizeSecurityGroupEgressCommandInput,
  type CreateSecurityGroupCommandInput,
  type IpPermission,
  type RevokeSecurityGroupEgressCommandInput,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import type { StepContext } from "../../../engine/step.js";
import { errorName } from "../../kit/errors.js";
import { answeredId, resultOf } from "../../kit/planned.js";
import { recordClosed } from "./egress-ledger.js";
import { hasServiceEgress, isAllTrafficV4, isAllTrafficV6, isTagged, unexpectedRules } from "./group-rules.js";
import { SECURITY_GROUP_ID, expectId } from "./ids.js";
import { ISOLATION_GROUP_DESCRIPTION, ISOLATION_GROUP_NAME, ISOLATION_ROLE, TAG_ROLE } from "./tags.js";

/**
 * What reading and changing the group needs: a step's context, or the egress sweep's (which
 * builds its read and change with the engine's callsFor, in act mode).
 */
export type GroupContext = Pick<StepContext, "read" | "change" | "logger" | "mode">;

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
/** The IPv6 twin a new group is born with in a VPC that has an IPv6 block; never added by us. */
const ALL_TRAFFIC_EGRESS_V6: IpPermission = { IpProtocol: "-1", Ipv6Ranges: [{ CidrIpv6: "::/0" }] };

export function lockName(vpcId: string): string {
  return `isolation-sg:${vpcId}`;
}

export function createGroupInput(vpcId: string, groupName: string = ISOLATION_GROUP_NAME): CreateSecurityGroupCommandInput {
  return {
    GroupName: groupName,
    Description: ISOLATION_GROUP_DESCRIPTION,
    VpcId: vpcId,
    // Tagged in the same call: there is never an untagged isolation group to find again.
    TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: TAG_ROLE, Value: ISOLATION_ROLE }] }],
  };
}

/**
 * A name for a group of ours when the usual one is taken in the VPC. Random, not derived from
 * anything: whoever squatted the usual name cannot squat this one in advance.
 */
export function fallbackGroupName(): string {
  return `${ISOLATION_GROUP_NAME}-${randomBytes(6).toString("hex")}`;
}

export function authorizeInput(groupId: string): AuthorizeSecurityGroupEgressCommandInput {
  return { GroupId: groupId, IpPermissions: [ALL_TRAFFIC_EGRESS] };
}

export function revokeAllTrafficInput(groupId: string): RevokeSecurityGroupEgressCommandInput {
  return { GroupId: groupId, IpPermissions: [ALL_TRAFFIC_EGRESS] };
}

export function groupIdOf(group: SecurityGroup): string {
  return expectId(SECURITY_GROUP_ID, group.GroupId, "the isolation group id");
}

/**
 * One of the service's isolation groups that it may put instances in: in the VPC, carrying the
 * role tag, and holding no rule the service did not put there. The tag is a claim anyone can
 * copy; the rules are what decides whether the group isolates. A tagged group with other rules
 * was either set up by someone else (a squatter, or an admin who copied the tag, perhaps onto a
 * group production uses) or opened by hand after we made it (e.g. for forensic access): the
 * responder neither rewrites nor uses it, and contains into a group whose rules it knows.
 */
export interface ServiceGroups {
  usable: SecurityGroup[];
  refused: { group: SecurityGroup; rules: string[] }[];
}

/** The VPC's groups that carry the service's role tag, whatever their name. */
export async function serviceGroups(ctx: GroupContext, vpcId: string): Promise<ServiceGroups> {
  const out = await ctx.read(
    "ec2",
    "ec2-read",
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: "vpc-id", Values: [vpcId] },
        { Name: `tag:${TAG_ROLE}`, Values: [ISOLATION_ROLE] },
      ],
    }),
  );
  const result: ServiceGroups = { usable: [], refused: [] };
  // The filters are the query; the checks here are the decision (never trust a filter alone).
  for (const group of out.SecurityGroups ?? []) {
    if (group.VpcId !== vpcId || !isTagged(group)) continue;
    groupIdOf(group);
    const rules = unexpectedRules(group);
    if (rules.length === 0) result.usable.push(group);
    else result.refused.push({ group, rules });
  }
  if (result.refused.length > 0) {
    ctx.logger.warn(
      { vpcId, refused: result.refused.map((r) => ({ groupId: r.group.GroupId, groupName: r.group.GroupName, rules: r.rules })) },
      "security groups tagged as isolation groups hold rules the responder never adds: not used, not changed; instances in them are not isolated",
    );
  }
  return result;
}

/**
 * The group to use among the usable ones: one the caller names first (the groups an instance's
 * interfaces are in already), then the one with the usual name, then the lowest id, so that
 * every worker picks the same one.
 */
export function preferredGroup(usable: readonly SecurityGroup[], prefer: readonly string[] = []): SecurityGroup | null {
  const ranked = [...usable].sort((a, b) => (a.GroupId ?? "").localeCompare(b.GroupId ?? ""));
  return (
    ranked.find((g) => prefer.includes(g.GroupId ?? "")) ??
    ranked.find((g) => g.GroupName === ISOLATION_GROUP_NAME) ??
    ranked[0] ??
    null
  );
}

/** The VPC's isolation group as it is now (call it holding the VPC's lock in act); null when there is none. */
export async function findIsolationGroup(ctx: GroupContext, vpcId: string, prefer: readonly string[] = []): Promise<SecurityGroup | null> {
  return preferredGroup((await serviceGroups(ctx, vpcId)).usable, prefer);
}

/**
 * The group as it is between two isolation sequences: read under the VPC's lock, because while
 * another instance is being isolated the group holds its temporary rule, and a check or a verify
 * reading then would see rules that are about to go. Holding the lock also means no isolation is
 * in flight in the VPC, so an all-traffic egress rule found now was left by a worker that died
 * mid-sequence: it is revoked here, before anyone reads the group as "not isolated".
 */
export async function settledIsolationGroup(ctx: StepContext, vpcId: string, prefer: readonly string[] = []): Promise<SecurityGroup | null> {
  // Plan and dry-run hold no lock: a rule seen then may be an isolation's in flight, and the
  // clean-up of a leftover is housekeeping done under the lock when act runs, not a call of this
  // remediation's plan. They read the group as it is (what the approver's plan is built from).
  if (ctx.mode !== "act") return findIsolationGroup(ctx, vpcId, prefer);
  return ctx.withLock(lockName(vpcId), async () => {
    const groups = await serviceGroups(ctx, vpcId);
    const closed: string[] = [];
    for (const group of groups.usable) {
      if (!hasServiceEgress(group)) continue;
      await revokeServiceEgress(ctx, group);
      closed.push(groupIdOf(group));
      group.IpPermissionsEgress = [];
    }
    if (closed.length > 0) {
      ctx.logger.warn({ vpcId, groupIds: closed }, "revoked an all-traffic egress rule a stopped isolation had left on the isolation group");
      await recordClosed(ctx, { vpcId, groupIds: closed, by: "check" });
    }
    return preferredGroup(groups.usable, prefer);
  });
}

/**
 * Finds or creates the VPC's isolation group; call it holding the VPC's lock. Found by the
 * service's tag and its rules, never by name: a group someone else named like ours changes
 * nothing. A new group gets the usual name when it is free (names are unique per VPC, so a group
 * of ours that Describe* does not show yet, eventual consistency, is found through the name
 * clash), and a random one when the name is taken by a group the service will not use.
 */
export async function ensureIsolationGroup(
  ctx: GroupContext,
  vpcId: string,
): Promise<{ groupId: string; created: boolean; group: SecurityGroup | null }> {
  const found = await findIsolationGroup(ctx, vpcId);
  if (found) return { groupId: groupIdOf(found), created: false, group: found };
  let name = ISOLATION_GROUP_NAME;
  for (let attempt = 1; ; attempt++) {
    try {
      const out = await ctx.change({
        service: "ec2",
        family: "ec2-write",
        command: new CreateSecurityGroupCommand(createGroupInput(vpcId, name)),
        // One placeholder per VPC: an instance with interfaces in two VPCs gets two new groups.
        planned: { GroupId: resultOf("CreateSecurityGroup", "GroupId", vpcId) },
      });
      // In plan and dry-run mode the id is the placeholder an approver reads in the later calls.
      const groupId = answeredId(ctx, SECURITY_GROUP_ID, out.GroupId, "the new isolation group id");
      if (ctx.mode === "act") ctx.logger.info({ vpcId, groupId, groupName: name }, "created an isolation security group");
      // A new group may not be visible to Describe* yet (eventual consistency): its rules are
      // known anyway, the default egress rule, which is exactly the temporary rule we want.
      return { groupId, created: true, group: null };
    } catch (err) {
      if (errorName(err) !== "InvalidGroup.Duplicate" || attempt >= 3) throw err;
      if (name === ISOLATION_GROUP_NAME) {
        const holder = await groupNamed(ctx, vpcId, name);
        if (holder && isTagged(holder) && unexpectedRules(holder).length === 0) {
          return { groupId: groupIdOf(holder), created: false, group: holder };
        }
        ctx.logger.warn(
          { vpcId, groupId: holder?.GroupId, groupName: name },
          "the isolation group's usual name is taken in this VPC by a group the responder does not use: creating one under another name",
        );
      }
      name = fallbackGroupName();
    }
  }
}

async function groupNamed(ctx: GroupContext, vpcId: string, name: string): Promise<SecurityGroup | undefined> {
  const out = await ctx.read(
    "ec2",
    "ec2-read",
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }, { Name: "group-name", Values: [name] }] }),
  );
  return (out.SecurityGroups ?? []).find((g) => g.VpcId === vpcId && g.GroupName === name);
}

const ALREADY_THERE = ["InvalidPermission.Duplicate"] as const;
const ALREADY_GONE = ["InvalidPermission.NotFound"] as const;

/** Adds the temporary rule; already there is fine. */
export async function authorizeAllTraffic(ctx: GroupContext, groupId: string): Promise<void> {
  try {
    await ctx.change({ service: "ec2", family: "ec2-write", command: new AuthorizeSecurityGroupEgressCommand(authorizeInput(groupId)), tolerates: ALREADY_THERE });
  } catch (err) {
    if (!(ALREADY_THERE as readonly (string | undefined)[]).includes(errorName(err))) throw err;
  }
}

/** Removes the temporary rule; already gone is fine. */
export async function revokeAllTraffic(ctx: GroupContext, groupId: string): Promise<void> {
  await revokeEgress(ctx, revokeAllTrafficInput(groupId));
}

/**
 * Removes every all-traffic egress rule the group holds (the temporary one, and an IPv6 default a
 * new group may have been born with), and nothing else: a group's other rules are never ours to
 * change.
 */
export async function revokeServiceEgress(ctx: GroupContext, group: SecurityGroup): Promise<void> {
  const groupId = groupIdOf(group);
  const egress = group.IpPermissionsEgress ?? [];
  if (egress.some(isAllTrafficV4)) await revokeEgress(ctx, revokeAllTrafficInput(groupId));
  if (egress.some(isAllTrafficV6)) await revokeEgress(ctx, v6DefaultInput(groupId));
}

/** The IPv6 default (`::/0` egress) a new group is born with in a VPC that has an IPv6 block. */
export function v6DefaultInput(groupId: string): RevokeSecurityGroupEgressCommandInput {
  return { GroupId: groupId, IpPermissions: [ALL_TRAFFIC_EGRESS_V6] };
}

/**
 * Revokes the IPv6 all-traffic default (`::/0`) a group created just now is born with in a VPC
 * with IPv6, without reading the group first (a new group may not be describable yet): absent,
 * in a VPC without IPv6, it is a no-op.
 */
export async function revokeV6Default(ctx: GroupContext, groupId: string): Promise<void> {
  await revokeEgress(ctx, v6DefaultInput(groupId));
}

async function revokeEgress(ctx: GroupContext, input: RevokeSecurityGroupEgressCommandInput): Promise<void> {
  try {
    await ctx.change({ service: "ec2", family: "ec2-write", command: new RevokeSecurityGroupEgressCommand(input), tolerates: ALREADY_GONE });
  } catch (err) {
    if (!(ALREADY_GONE as readonly (string | undefined)[]).includes(errorName(err))) throw err;
  }
}

/** The IPv6 default a group was born with: revoked before interfaces move in (null if none). */
export function strayV6Revocation(group: SecurityGroup): RevokeSecurityGroupEgressCommandInput | null {
  return (group.IpPermissionsEgress ?? []).some(isAllTrafficV6) ? v6DefaultInput(groupIdOf(group)) : null;
}
