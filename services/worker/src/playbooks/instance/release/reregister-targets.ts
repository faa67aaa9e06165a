// Release 3: register the instance again in every target group identify found it in, with the
// recorded ports. Target groups deleted since are skipped.
import { RegisterTargetsCommand, type RegisterTargetsCommandInput } from "@aws-sdk/client-elastic-load-balancing-v2";
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../../engine/step.js";
import { isErrorCode } from "../../kit/errors.js";
import { STEP } from "../shared/names.js";
import { requirePreState, targetSchema } from "../shared/pre-state.js";
import { byTargetGroup, registrationState, type TargetRegistration } from "../shared/target-groups.js";

/** The registrations identify recorded, now in place again. */
const reregisterOutput = z.object({ targets: z.array(targetSchema) });

async function unregistered(ctx: StepContext): Promise<TargetRegistration[]> {
  const missing: TargetRegistration[] = [];
  for (const target of requirePreState(ctx).targets) {
    const state = await registrationState(ctx, target);
    if (state === "not-registered" || state === "draining") missing.push(target);
  }
  return missing;
}

function registerInputs(targets: readonly TargetRegistration[]): RegisterTargetsCommandInput[] {
  return [...byTargetGroup(targets)].map(([arn, list]) => ({
    TargetGroupArn: arn,
    Targets: list.map((t) => ({ Id: t.targetId, Port: t.port })),
  }));
}

export const reregisterTargets: Step = {
  name: STEP.reregisterTargets,
  destructive: false,
  output: reregisterOutput,

  async check(ctx): Promise<CheckResult> {
    return (await unregistered(ctx)).length === 0
      ? { done: true, output: { targets: requirePreState(ctx).targets } }
      : { done: false };
  },

  async act(ctx) {
    for (const input of registerInputs(await unregistered(ctx))) {
      try {
        await ctx.change({ service: "elbv2", family: "elbv2", command: new RegisterTargetsCommand(input) });
      } catch (err) {
        if (!isErrorCode(err, "TargetGroupNotFoundException")) throw err;
      }
    }
    return { targets: requirePreState(ctx).targets };
  },

  async verify(ctx) {
    const missing = await unregistered(ctx);
    if (missing.length > 0) {
      throw new VerificationError(`not registered again in ${missing.map((t) => t.targetGroupArn).join(", ")}`);
    }
  },
};
