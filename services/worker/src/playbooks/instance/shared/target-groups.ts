import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type TargetGroup,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { TargetRegistration } from "../../kit/targets.js";
import type { StepContext } from "../../../engine/step.js";
import { errorName } from "../../kit/errors.js";
import { INSTANCE_ID, IPV4_ADDRESS, TARGET_GROUP_ARN, expectId } from "./ids.js";

// Reading and changing one registration: kit/targets.ts (shared with the ECS task playbook).
export { byTargetGroup, registrationState, type RegistrationState, type TargetRegistration } from "../../kit/targets.js";

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
