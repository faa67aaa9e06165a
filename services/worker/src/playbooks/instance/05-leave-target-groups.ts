// Step 5: deregister the instance from every target group identify found it in (by instance id
// or private IP, with the port of each registration). After isolation the load balancer would
// mark it unhealthy anyway; deregistering stops it being offered traffic at all and leaves a
// record of where it was, for release.
import { DeregisterTargetsCommand, type DeregisterTargetsCommandInput } from "@aws-sdk/client-elastic-load-balancing-v2";
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../engine/step.js";
import { isErrorCode } from "../kit/errors.js";
import { STEP } from "./shared/names.js";
import { requirePreState, targetSchema } from "./shared/pre-state.js";
import { byTargetGroup, registrationState, type TargetRegistration } from "./shared/target-groups.js";

const leaveTargetGroupsOutput = z.object({
  targets: z.array(targetSchema.extend({ state: z.enum(["registered", "draining", "not-registered", "group-gone"]) })),
});

export type LeaveTargetGroupsOutput = z.infer<typeof leaveTargetGroupsOutput>;

async function states(
  ctx: StepContext,
  targets: readonly TargetRegistration[],
): Promise<LeaveTargetGroupsOutput["targets"]> {
  const out: LeaveTargetGroupsOutput["targets"] = [];
  for (const target of targets) out.push({ ...target, state: await registrationState(ctx, target) });
  return out;
}

function deregisterInputs(registered: readonly TargetRegistration[]): DeregisterTargetsCommandInput[] {
  return [...byTargetGroup(registered)].map(([arn, list]) => ({
    TargetGroupArn: arn,
    Targets: list.map((t) => ({ Id: t.targetId, Port: t.port })),
  }));
}

export const leaveTargetGroups: Step = {
  name: STEP.leaveTargetGroups,
  destructive: false,
  output: leaveTargetGroupsOutput,

  async check(ctx): Promise<CheckResult> {
    const found = await states(ctx, requirePreState(ctx).targets);
    return found.some((t) => t.state === "registered")
      ? { done: false, state: found }
      : { done: true, output: { targets: found }, ...(found.length === 0 ? { note: "not registered in any target group" } : {}) };
  },

  async act(ctx) {
    const before = await states(ctx, requirePreState(ctx).targets);
    for (const input of deregisterInputs(before.filter((t) => t.state === "registered"))) {
      try {
        await ctx.change({ service: "elbv2", family: "elbv2", command: new DeregisterTargetsCommand(input) });
      } catch (err) {
        // Deregistered or deleted meanwhile (another actor, or our own crashed attempt): the
        // states read below say where things stand.
        if (!isErrorCode(err, "InvalidTargetException", "TargetGroupNotFoundException")) throw err;
      }
    }
    const output: LeaveTargetGroupsOutput = { targets: await states(ctx, before.map(({ state: _state, ...t }) => t)) };
    return output;
  },

  async verify(ctx) {
    const still = (await states(ctx, requirePreState(ctx).targets)).filter((t) => t.state === "registered");
    if (still.length > 0) {
      throw new VerificationError(
        `still registered in ${still.map((t) => `${t.targetGroupArn} port ${t.port}`).join(", ")}`,
      );
    }
  },
};
