// What a security group's rules say, read without calling AWS: whether it carries one of the
// service's role tags, whether it is empty, and which rules the service itself never leaves on a
// group of that role (how a tagged look-alike is told apart from a group of ours).
import type { IpPermission, SecurityGroup } from "@aws-sdk/client-ec2";
import { GROUP_NAME, ROLE_TAG_VALUE, TAG_ROLE, type GroupRole } from "./tags.js";

export function isTagged(group: SecurityGroup, role: GroupRole): boolean {
  return (group.Tags ?? []).some((t) => t.Key === TAG_ROLE && t.Value === ROLE_TAG_VALUE[role]);
}

/**
 * Whether the group's name is one the service gives a group of this role: the usual name, or the
 * usual name with the random suffix createGroup adds when the usual one is taken (the previous
 * version named its fallback groups the same way). A tag can be put on any group, a name cannot be
 * changed: a production group someone tagged with a role (by mistake, or an attacker with
 * ec2:CreateTags) keeps its own name, and is never used or changed. Without this, such a group
 * holding only all-traffic egress would have that egress revoked (as a containment group: a
 * production outage) or a rule-less one be given it (as a transit group: production opened), and
 * contained interfaces would share a group with production, reopened by the next rule a person
 * adds to it for production's sake.
 */
export function hasServiceName(group: SecurityGroup, role: GroupRole): boolean {
  const name = group.GroupName ?? "";
  return name === GROUP_NAME[role] || new RegExp(`^${GROUP_NAME[role]}-[0-9a-f]{12}$`).test(name);
}

function ruleEntries(p: IpPermission): number {
  return (p.IpRanges?.length ?? 0) + (p.Ipv6Ranges?.length ?? 0) + (p.PrefixListIds?.length ?? 0) + (p.UserIdGroupPairs?.length ?? 0);
}

export function hasNoRules(group: SecurityGroup): boolean {
  return [...(group.IpPermissions ?? []), ...(group.IpPermissionsEgress ?? [])].every((p) => ruleEntries(p) === 0);
}

export function isAllTrafficV4(p: IpPermission): boolean {
  return p.IpProtocol === "-1" && (p.IpRanges ?? []).some((r) => r.CidrIp === "0.0.0.0/0");
}

export function isAllTrafficV6(p: IpPermission): boolean {
  return p.IpProtocol === "-1" && (p.Ipv6Ranges ?? []).some((r) => r.CidrIpv6 === "::/0");
}

export function hasAllTrafficEgress(group: SecurityGroup): boolean {
  return (group.IpPermissionsEgress ?? []).some(isAllTrafficV4);
}

/** Whether the group holds any all-traffic egress to anywhere (ours, or the defaults it was born with). */
export function hasServiceEgress(group: SecurityGroup): boolean {
  return (group.IpPermissionsEgress ?? []).some((p) => isAllTrafficV4(p) || isAllTrafficV6(p));
}

/**
 * Rules the service never leaves on a group of its own: any ingress, and any egress but all
 * traffic to 0.0.0.0/0 or ::/0. On a transit group those two are its rule (and an IPv6 default it
 * was born with); on a containment group they are what a new group is born with before its
 * defaults are revoked, or what the previous procedure's crash left: revoked before use, never a
 * reason to refuse the group. Empty when the group holds only what the service itself puts there.
 */
export function unexpectedRules(group: SecurityGroup): string[] {
  const found: string[] = [];
  for (const p of group.IpPermissions ?? []) {
    if (ruleEntries(p) > 0) found.push(`ingress ${describeRule(p)}`);
  }
  for (const p of group.IpPermissionsEgress ?? []) {
    const other =
      p.IpProtocol !== "-1" ||
      (p.IpRanges ?? []).some((r) => r.CidrIp !== "0.0.0.0/0") ||
      (p.Ipv6Ranges ?? []).some((r) => r.CidrIpv6 !== "::/0") ||
      (p.PrefixListIds?.length ?? 0) > 0 ||
      (p.UserIdGroupPairs?.length ?? 0) > 0;
    if (other) found.push(`egress ${describeRule(p)}`);
  }
  return found;
}

function describeRule(p: IpPermission): string {
  const ports = p.FromPort === undefined ? "" : ` ${p.FromPort}-${p.ToPort ?? p.FromPort}`;
  const peers = [
    ...(p.IpRanges ?? []).map((r) => r.CidrIp),
    ...(p.Ipv6Ranges ?? []).map((r) => r.CidrIpv6),
    ...(p.PrefixListIds ?? []).map((r) => r.PrefixListId),
    ...(p.UserIdGroupPairs ?? []).map((r) => r.GroupId),
  ];
  return `${p.IpProtocol ?? "?"}${ports} ${peers.join(",")}`;
}
