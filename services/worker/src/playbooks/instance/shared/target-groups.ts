import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type TargetGroup,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { StepContext } from "../../../engine/step.js";
import { errorName } from "../../kit/errors.js";
import { INSTANCE_ID, IPV4_ADDRESS, TARGET_GROUP_ARN, expectId } from "./ids.js";

/** One registration of the instance (by id, or by one of its private IPs) in a target group. */
export type TargetRegistration = {
  targetGroupArn: string;
  targetId: string;
  port: number;
};

export type RegistrationState = "registered" | "draining" | "not-registered" | "group-gone";

/**
 * Where the instance is registered now: every target group of the VPC, of target type `instance`
 * (by instance id) or `ip` (by one of its private addresses), and the registrations in each with
 * their port. Registrations already draining are left out: they are on their way out.
 */
export async function findRegistrations(
  ctx: StepContext,
  vpcId: string,
  instanceId: string,
  privateIps: readonly string[],
): Promise<TargetRegistration[]> {
  const groups: TargetGroup[] = [];
  let marker: string | undefined;
  do {
    const out = await ctx.read("elbv2", "elbv2", new DescribeTargetGroupsCommand(marker ? { Marker: marker } : {}));
    groups.push(...(out.TargetGroups ?? []));
    marker = out.NextMarker;
  } while (marker);

  const ips = new Set(privateIps);
  const found: TargetRegistration[] = [];
  for (const group of groups) {
    if (group.VpcId !== vpcId) continue;
    if (group.TargetType !== "instance" && group.TargetType !== "ip") continue;
    const arn = expectId(TARGET_GROUP_ARN, group.TargetGroupArn, "a target group ARN");
    let health;
    try {
      health = await ctx.read("elbv2", "elbv2", new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
    } catch (err) {
      if (errorName(err) === "TargetGroupNotFoundException") continue; // deleted meanwhile
      throw err;
    }
    for (const description of health.TargetHealthDescriptions ?? []) {
      const id = description.Target?.Id;
      const matches = group.TargetType === "instance" ? id === instanceId : id !== undefined && ips.has(id);
      if (!matches || description.TargetHealth?.State === "draining") continue;
      const port = description.Target?.Port ?? group.Port;
      if (port === undefined) continue;
      found.push({
        targetGroupArn: arn,
        targetId: expectId(group.TargetType === "instance" ? INSTANCE_ID : IPV4_ADDRESS, id, "a target id"),
        port,
      });
    }
  }
  return found;
}

/**
 * Whether one registration is still in place. Asked with the target and port, ELBv2 answers
 * `unused` with reason Target.NotRegistered for a target that is not registered; `unused` for
 * another reason (Target.NotInUse: the group serves no load balancer yet) is still a registration.
 */
export async function registrationState(ctx: StepContext, target: TargetRegistration): Promise<RegistrationState> {
  let out;
  try {
    out = await ctx.read(
      "elbv2",
      "elbv2",
      new DescribeTargetHealthCommand({
        TargetGroupArn: target.targetGroupArn,
        Targets: [{ Id: target.targetId, Port: target.port }],
      }),
    );
  } catch (err) {
    if (errorName(err) === "TargetGroupNotFoundException") return "group-gone";
    throw err;
  }
  // Matched on port too: an emulator may answer with another port's registration.
  const description = (out.TargetHealthDescriptions ?? []).find(
    (d) => d.Target?.Id === target.targetId && (d.Target.Port === undefined || d.Target.Port === target.port),
  );
  if (!description) return "not-registered";
  const state = description.TargetHealth?.State;
  if (state === "draining") return "draining";
  if (state === "unused" && description.TargetHealth?.Reason === "Target.NotRegistered") return "not-registered";
  return "registered";
}

/** Registrations grouped by target group, one DeregisterTargets / RegisterTargets call per group. */
export function byTargetGroup(targets: readonly TargetRegistration[]): Map<string, TargetRegistration[]> {
  const groups = new Map<string, TargetRegistration[]>();
  for (const target of targets) {
    const list = groups.get(target.targetGroupArn) ?? [];
    list.push(target);
    groups.set(target.targetGroupArn, list);
  }
  return groups;
}
