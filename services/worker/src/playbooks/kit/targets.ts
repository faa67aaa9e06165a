// A workload's registrations in ELBv2 target groups (an instance by id or private IP, an ECS
// task by its ENI's IP or its host and host port): whether one is in place, and one call per
// target group to change them. Shared by the Instance and ECS task playbooks.
import { DescribeTargetHealthCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { StepContext } from "../../engine/step.js";
import { errorName } from "./errors.js";

/** One registration in a target group. A type, not an interface: step outputs hold it. */
export type TargetRegistration = {
  targetGroupArn: string;
  targetId: string;
  port: number;
};

export type RegistrationState = "registered" | "draining" | "not-registered" | "group-gone";

/**
 * Whether one registration is still in place. Asked with the target and port, ELBv2 answers
 * `unused` with reason Target.NotRegistered for a target that is not registered; `unused` for
 * another reason (Target.NotInUse: the group serves no load balancer yet) is still a registration.
 */
export async function registrationState(ctx: Pick<StepContext, "read">, target: TargetRegistration): Promise<RegistrationState> {
  let out;
  try {
    out = await ctx.read(
      "elbv2",
      "elbv2",
      new DescribeTargetHealthCommand({ TargetGroupArn: target.targetGroupArn, Targets: [{ Id: target.targetId, Port: target.port }] }),
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
export function byTargetGroup<T extends TargetRegistration>(targets: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const target of targets) groups.set(target.targetGroupArn, [...(groups.get(target.targetGroupArn) ?? []), target]);
  return groups;
}
