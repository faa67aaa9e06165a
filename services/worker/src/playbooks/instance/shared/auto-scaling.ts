import { DescribeAutoScalingInstancesCommand } from "@aws-sdk/client-auto-scaling";
import type { StepContext } from "../../../engine/step.js";
import { AUTO_SCALING_GROUP_NAME, expectId } from "./ids.js";

export type AutoScalingMembership = {
  groupName: string;
  lifecycleState: string;
};

/**
 * Lifecycle states in which the group no longer replaces the instance on a failed health check:
 * it is on its way out of, or already out of, the group's care. Isolation may follow.
 */
export const OUT_OF_SERVICE_STATES: ReadonlySet<string> = new Set(["Standby", "EnteringStandby", "Detaching", "Detached"]);

/** The Auto Scaling group the instance belongs to now, with its lifecycle state, or null. */
export async function autoScalingMembership(
  ctx: StepContext,
  instanceId: string,
): Promise<AutoScalingMembership | null> {
  const out = await ctx.read("autoscaling", "autoscaling", new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
  const found = (out.AutoScalingInstances ?? []).find((i) => i.InstanceId === instanceId);
  if (!found) return null;
  return {
    groupName: expectId(AUTO_SCALING_GROUP_NAME, found.AutoScalingGroupName, "the instance's Auto Scaling group"),
    lifecycleState: found.LifecycleState ?? "unknown",
  };
}
