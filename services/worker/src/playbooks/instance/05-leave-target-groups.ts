// Step 5: deregister the instance from every target group identify found it in (by instance id
// or private IP, with the port of each registration). After isolation the load balancer would
// mark it unhealthy anyway; deregistering stops it being offered traffic at all and leaves a
// record of where it was, for release.
import { DeregisterTargetsCommand, type DeregisterTargetsCommandInput } from "@aws-sdk/client-elastic-load-balancing-v2";
import { VerificationError, type CheckResult, type PlannedCall, type Step, type StepContext } from "../../engine/step.js";
import { send } from "./shared/call.js";
import { notChecked } from "./shared/dry-run.js";
import { errorName } from "./shared/errors.js";
import { toJsonObject } from "./shared/json.js";
import { STEP } from "./shared/names.js";
import { DEFAULT_EXEMPT_TAG } from "./shared/tags.js";
import { preStateOrLive, requirePreState } from "./shared/pre-state.js";
import {
  byTargetGroup,
  registrationState,
  type RegistrationState,
  type TargetRegistration,
} from "./shared/target-groups.js";

export type LeaveTargetGroupsOutput = {
  targets: (TargetRegistration & { state: RegistrationState })[];
};

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

  async check(ctx): Promise<CheckResult> {
    const found = await states(ctx, requirePreState(ctx).targets);
    return found.some((t) => t.state === "registered")
      ? { done: false, state: found }
      : { done: true, output: { targets: found } };
  },

  async act(ctx) {
    const before = await states(ctx, requirePreState(ctx).targets);
    for (const input of deregisterInputs(before.filter((t) => t.state === "registered"))) {
      try {
        await send(ctx, "elbv2", (o) => ctx.aws.elbv2.send(new DeregisterTargetsCommand(input), o));
      } catch (err) {
        // Deregistered or deleted meanwhile (another actor, or our own crashed attempt): the
        // states read below say where things stand.
        if (errorName(err) !== "InvalidTargetException" && errorName(err) !== "TargetGroupNotFoundException") throw err;
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

  async plan(ctx) {
    const found = await states(ctx, (await preStateOrLive(ctx, DEFAULT_EXEMPT_TAG)).targets);
    return deregisterInputs(found.filter((t) => t.state === "registered")).map(
      (input): PlannedCall => ({ service: "elbv2", operation: "DeregisterTargets", params: toJsonObject(input) }),
    );
  },

  dryRun() {
    return Promise.resolve([notChecked("elbv2", "DeregisterTargets")]);
  },
};
