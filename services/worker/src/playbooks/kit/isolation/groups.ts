// The two groups of a VPC's isolation, found or created. Found by the service's role tag and
// their rules, never by name: a group someone else named like ours changes nothing.
//
// - The transit group carries one permanent rule, all traffic to 0.0.0.0/0 outbound
//   (ALL_TRAFFIC_EGRESS), and is only ever held by an interface on its way to containment.
// - The containment group never holds a rule. A new one is born with the default egress rules
//   (IPv4, and ::/0 in a VPC with IPv6): they are revoked before any interface goes into it. An
//   all-traffic egress rule found on one (the previous procedure's temporary rule, left by a
//   worker that died; or a new group's defaults, left by a worker that died right after creating
//   it) is revoked before the group is used, and the egress ledger's record closed.
import { randomBytes } from "node:crypto";
import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand, type SecurityGroup } from "@aws-sdk/client-ec2";
import { SECURITY_GROUP_ID, VPC_ID } from "@gdr/core/findings/patterns";
import type { StepContext } from "../../../engine/step.js";
import { errorName } from "../errors.js";
import { expectId } from "../ids.js";
import { answeredId, resultOf } from "../planned.js";
import { ALL_TRAFFIC_EGRESS, authorizeAllTraffic, groupIdOf, groupNotVisibleOr, revokeDefaultEgress, revokeServiceEgress, type GroupContext } from "./egress.js";
import { recordClosed } from "./ledger.js";
import { hasAllTrafficEgress, hasServiceEgress, hasServiceName, isTagged, unexpectedRules } from "./rules.js";
import { GROUP_DESCRIPTION, GROUP_NAME, ROLE_TAG_VALUE, TAG_ROLE, type GroupRole } from "./tags.js";

/** The VPC's isolation lock: the same Redis key the previous procedure took (see isolate.ts). */
export function lockName(vpcId: string): string {
  return `isolation-sg:${vpcId}`;
}


/**
 * The VPC's groups that carry the role's tag: usable ones bear a name the service gives its groups
 * (rules.ts hasServiceName: a tagged production group is refused) and hold no rule the service did
 * not put there. A tagged group with other rules was either set up by someone else (a squatter, or an
 * admin who copied the tag, perhaps onto a group production uses) or opened by hand after we made
 * it (e.g. for forensic access): the responder neither rewrites nor uses it.
 */
export interface ServiceGroups {
  usable: SecurityGroup[];
  refused: { group: SecurityGroup; rules: string[] }[];
}

export async function serviceGroups(ctx: GroupContext, vpcId: string, role: GroupRole): Promise<ServiceGroups> {
  const out = await ctx.read(
    "ec2",
    "ec2-read",
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: "vpc-id", Values: [vpcId] },
        { Name: `tag:${TAG_ROLE}`, Values: [ROLE_TAG_VALUE[role]] },
      ],
    }),
  );
  const result: ServiceGroups = { usable: [], refused: [] };
  // The filters are the query; the checks here are the decision (never trust a filter alone).
  for (const group of out.SecurityGroups ?? []) {
    if (group.VpcId !== vpcId || !isTagged(group, role)) continue;
    groupIdOf(group);
    const rules = hasServiceName(group, role) ? unexpectedRules(group) : [`name ${JSON.stringify(group.GroupName ?? "")} is not one the responder gives its groups`];
    if (rules.length === 0) result.usable.push(group);
    else result.refused.push({ group, rules });
  }
  if (result.refused.length > 0) {
    ctx.logger.warn(
      { vpcId, role, refused: result.refused.map((r) => ({ groupId: r.group.GroupId, groupName: r.group.GroupName, rules: r.rules })) },
      "security groups tagged as isolation groups hold rules the responder never adds: not used, not changed",
    );
  }
  return result;
}

/**
 * The group to use among the usable ones: one the caller names first (the groups an interface
 * is in already), then the one with the usual name, then the lowest id, so that every worker
 * picks the same one.
 */
export function preferredGroup(usable: readonly SecurityGroup[], role: GroupRole, prefer: readonly string[] = []): SecurityGroup | null {
  const ranked = [...usable].sort((a, b) => (a.GroupId ?? "").localeCompare(b.GroupId ?? ""));
  return ranked.find((g) => prefer.includes(g.GroupId ?? "")) ?? ranked.find((g) => g.GroupName === GROUP_NAME[role]) ?? ranked[0] ?? null;
}

export async function findGroup(ctx: GroupContext, vpcId: string, role: GroupRole, prefer: readonly string[] = []): Promise<SecurityGroup | null> {
  return preferredGroup((await serviceGroups(ctx, vpcId, role)).usable, role, prefer);
}

/** The id of the VPC's transit group, or null when there is none (nothing is created). */
export async function findTransitGroupId(ctx: GroupContext, vpcId: string): Promise<string | null> {
  const found = await findGroup(ctx, expectId(VPC_ID, vpcId, "a VPC to look for a transit group in"), "transit");
  return found ? groupIdOf(found) : null;
}

/** A VPC's two groups, as isolation uses them. */
export interface VpcGroups {
  vpcId: string;
  transitGroupId: string;
  containmentGroupId: string;
  /** Whether either group was created by this call. */
  created: boolean;
}

/**
 * Finds or creates the VPC's transit and containment groups and leaves them as isolation needs
 * them: the transit group with its rule, the containment group with none. Call it holding the
 * VPC's lock in act mode (ensureVpcGroups in isolate.ts does).
 */
export async function ensureGroupsLocked(ctx: StepContext, vpcId: string, prefer: readonly string[] = []): Promise<VpcGroups> {
  const containment = await ensureContainment(ctx, vpcId, prefer);
  const transit = await ensureTransit(ctx, vpcId, prefer);
  return { vpcId, transitGroupId: transit.groupId, containmentGroupId: containment.groupId, created: containment.created || transit.created };
}

async function ensureContainment(ctx: StepContext, vpcId: string, prefer: readonly string[]): Promise<{ groupId: string; created: boolean }> {
  const found = await findGroup(ctx, vpcId, "containment", prefer);
  if (found) {
    if (hasServiceEgress(found)) await closeLeftoverEgress(ctx, vpcId, [found], "check");
    return { groupId: groupIdOf(found), created: false };
  }
  const groupId = await createGroup(ctx, vpcId, "containment");
  // Born with the default egress rules: revoked before anything moves in.
  await revokeDefaultEgress(ctx, groupId);
  return { groupId, created: true };
}

async function ensureTransit(ctx: StepContext, vpcId: string, prefer: readonly string[]): Promise<{ groupId: string; created: boolean }> {
  const found = await findGroup(ctx, vpcId, "transit", prefer);
  if (found) {
    // Someone revoked it: without it the transit group would not do its job. Only ever the
    // transit group is authorized a rule.
    if (!hasAllTrafficEgress(found)) await authorizeAllTraffic(ctx, groupIdOf(found));
    return { groupId: groupIdOf(found), created: false };
  }
  // A new group is born with the IPv4 all-traffic egress rule, which is exactly the transit rule
  // (and in a VPC with IPv6 with ::/0 too, kept: the transit group is the "all access" group).
  return { groupId: await createGroup(ctx, vpcId, "transit"), created: true };
}

/**
 * Creates a group of the role. It gets the usual name when that is free (names are unique per
 * VPC, so a group of ours that Describe* does not show yet is found through the name clash), and a
 * random one when the name is taken by a group the service will not use.
 */
async function createGroup(ctx: StepContext, vpcId: string, role: GroupRole): Promise<string> {
  let name = GROUP_NAME[role];
  for (let attempt = 1; ; attempt++) {
    try {
      const out = await ctx.change({
        service: "ec2",
        family: "ec2-write",
        command: new CreateSecurityGroupCommand({
          GroupName: name,
          Description: GROUP_DESCRIPTION[role],
          VpcId: vpcId,
          // Tagged in the same call: there is never an untagged group of ours to find again.
          TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: TAG_ROLE, Value: ROLE_TAG_VALUE[role] }] }],
        }),
        // One placeholder per VPC and role: an approver reads which group each later call uses.
        planned: { GroupId: resultOf("CreateSecurityGroup", "GroupId", `${role} in ${vpcId}`) },
      });
      const groupId = answeredId(ctx, SECURITY_GROUP_ID, out.GroupId, `the new ${role} group id`);
      if (ctx.mode === "act") ctx.logger.info({ vpcId, groupId, groupName: name, role }, "created an isolation security group");
      return groupId;
    } catch (err) {
      if (errorName(err) !== "InvalidGroup.Duplicate" || attempt >= 3) throw err;
      if (name === GROUP_NAME[role]) {
        const holder = await groupNamed(ctx, vpcId, name);
        if (holder && isTagged(holder, role) && unexpectedRules(holder).length === 0) {
          const groupId = groupIdOf(holder);
          // Another worker created it meanwhile (or Describe* did not show it yet): ours to use,
          // a containment group only once its defaults are gone.
          if (role === "containment" && hasServiceEgress(holder)) await closeLeftoverEgress(ctx, vpcId, [holder], "check");
          // As ensureTransit does with a transit group found without its rule.
          if (role === "transit" && !hasAllTrafficEgress(holder)) await authorizeAllTraffic(ctx, groupId);
          return groupId;
        }
        ctx.logger.warn(
          { vpcId, groupId: holder?.GroupId, groupName: name, role },
          "an isolation group's usual name is taken in this VPC by a group the responder does not use: creating one under another name",
        );
      }
      // Random, not derived from anything: whoever squatted the usual name cannot squat this one.
      name = `${GROUP_NAME[role]}-${randomBytes(6).toString("hex")}`;
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

/**
 * Revokes all-traffic egress from containment groups (the previous procedure's temporary rule a
 * dead worker left, or a new group's defaults) and closes the egress ledger's record.
 */
export async function closeLeftoverEgress(
  ctx: StepContext,
  vpcId: string,
  groups: readonly SecurityGroup[],
  by: "check" | "isolation",
): Promise<string[]> {
  const closed: string[] = [];
  for (const group of groups) {
    if (!hasServiceEgress(group)) continue;
    await revokeServiceEgress(ctx, group);
    closed.push(groupIdOf(group));
    group.IpPermissionsEgress = [];
  }
  if (closed.length > 0) {
    if (ctx.mode === "act") ctx.logger.warn({ vpcId, groupIds: closed }, "revoked all-traffic egress from a containment group before using it");
    await recordClosed(ctx, { vpcId, groupIds: closed, by });
  }
  return closed;
}

// The rest of the kit and the sweep read these through this file, as before egress.ts was split out.
export { ALL_TRAFFIC_EGRESS, groupIdOf, groupNotVisibleOr, revokeServiceEgress, type GroupContext };
