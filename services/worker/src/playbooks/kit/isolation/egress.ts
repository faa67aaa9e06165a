// Changing a group's all-traffic egress, and what every isolation file shares to read a group:
// the transit group's one rule is added here, and the all-traffic rules a containment group must
// never hold (the previous procedure's temporary rule, a new group's defaults) are revoked here.
// Nothing else of a group's rules is ever changed.
import {
  AuthorizeSecurityGroupEgressCommand,
  RevokeSecurityGroupEgressCommand,
  type IpPermission,
  type RevokeSecurityGroupEgressCommandInput,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import { SECURITY_GROUP_ID } from "@gdr/core/findings/patterns";
import { VerificationError, type StepContext } from "../../../engine/step.js";
import { errorName } from "../errors.js";
import { expectId } from "../ids.js";
import { isAllTrafficV4, isAllTrafficV6 } from "./rules.js";

/**
 * What reading and changing groups needs: a step's context, or the sweep's (which builds its read
 * and change with the engine's callsFor, in act mode).
 */
export type GroupContext = Pick<StepContext, "read" | "change" | "logger" | "mode">;

/**
 * The transit group's one rule: all traffic, all ports, to 0.0.0.0/0, outbound.
 *
 * Why an interface passes through a group with this rule: security groups are stateful, and
 * changing an interface's groups does not interrupt connections that are being tracked; they live
 * on until they time out. A flow permitted by an all-traffic 0.0.0.0/0 rule can be left
 * untracked, and taking away the rule that permitted an untracked flow stops it at once. So every
 * interface is first moved to the transit group, which holds that rule, and then to the
 * containment group, which holds none (AWS's AWSSupport-ContainEC2Instance runbook does the
 * same). (EC2 tracks a flow unless all-traffic rules permit it in both directions, and a
 * connection AWS tracks anyway keeps its state: only a network ACL cuts those for certain.)
 * The rule stays on the transit group for good: nothing contained is ever on that group, so
 * nothing contained is ever reopened by it.
 */
export const ALL_TRAFFIC_EGRESS: IpPermission = { IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] };
/** The IPv6 twin a new group is born with in a VPC that has an IPv6 block; never added by us. */
const ALL_TRAFFIC_EGRESS_V6: IpPermission = { IpProtocol: "-1", Ipv6Ranges: [{ CidrIpv6: "::/0" }] };

/** The id of a group the service read, checked before anything is sent with it. */
export function groupIdOf(group: SecurityGroup): string {
  return expectId(SECURITY_GROUP_ID, group.GroupId, "an isolation group id");
}

const ALREADY_THERE = ["InvalidPermission.Duplicate"] as const;
const ALREADY_GONE = ["InvalidPermission.NotFound"] as const;

/** Adds the transit rule; already there is fine. Only ever called with a transit group's id. */
export async function authorizeAllTraffic(ctx: GroupContext, transitGroupId: string): Promise<void> {
  try {
    await ctx.change({
      service: "ec2",
      family: "ec2-write",
      command: new AuthorizeSecurityGroupEgressCommand({ GroupId: transitGroupId, IpPermissions: [ALL_TRAFFIC_EGRESS] }),
      tolerates: ALREADY_THERE,
    });
  } catch (err) {
    if (!(ALREADY_THERE as readonly string[]).includes(errorName(err))) throw err;
  }
}

/**
 * Removes every all-traffic egress rule the group holds (IPv4 and IPv6), and nothing else: a
 * group's other rules are never ours to change.
 */
export async function revokeServiceEgress(ctx: GroupContext, group: SecurityGroup): Promise<void> {
  const groupId = groupIdOf(group);
  const egress = group.IpPermissionsEgress ?? [];
  if (egress.some(isAllTrafficV4)) await revokeEgress(ctx, revokeInput(groupId, ALL_TRAFFIC_EGRESS));
  if (egress.some(isAllTrafficV6)) await revokeEgress(ctx, revokeInput(groupId, ALL_TRAFFIC_EGRESS_V6));
}

/**
 * The default egress rules a new group is born with (IPv4, and ::/0 in a VPC with IPv6), revoked
 * without reading the group first (a new group may not be describable yet, eventual consistency);
 * a rule that is not there (no IPv6 in the VPC) is fine.
 */
export async function revokeDefaultEgress(ctx: GroupContext, groupId: string): Promise<void> {
  await revokeEgress(ctx, revokeInput(groupId, ALL_TRAFFIC_EGRESS));
  await revokeEgress(ctx, revokeInput(groupId, ALL_TRAFFIC_EGRESS_V6));
}

function revokeInput(groupId: string, rule: IpPermission): RevokeSecurityGroupEgressCommandInput {
  return { GroupId: groupId, IpPermissions: [rule] };
}

async function revokeEgress(ctx: GroupContext, input: RevokeSecurityGroupEgressCommandInput): Promise<void> {
  try {
    await ctx.change({ service: "ec2", family: "ec2-write", command: new RevokeSecurityGroupEgressCommand(input), tolerates: ALREADY_GONE });
  } catch (err) {
    if (!(ALREADY_GONE as readonly string[]).includes(errorName(err))) throw groupNotVisibleOr(err);
  }
}

/**
 * InvalidGroup.NotFound for a group just created (EC2 is eventually consistent: a new group may
 * not be usable at once) or deleted since it was read: a fatal code for core's classifier, which
 * would end the remediation uncontained. A VerificationError instead: the engine retries the step,
 * whose re-run finds the group (or creates one) and carries on. Any other error as it is.
 */
export function groupNotVisibleOr(err: unknown): unknown {
  return errorName(err) === "InvalidGroup.NotFound" ? new VerificationError(`a security group of the isolation is not visible (yet): ${errorName(err)}`) : err;
}
