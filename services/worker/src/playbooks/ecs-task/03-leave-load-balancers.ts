// Step 3: take the task out of its service's target groups (identify recorded where it was
// registered: the ENI's IP and container port for awsvpc, the host and host port for bridge/host).
// Once isolated, the load balancer's health checks would fail, and a service whose health check
// grace has passed replaces a task its load balancer reports unhealthy, which loses the evidence;
// out of the target group, it is offered no traffic and judged by no load balancer health check.
import { DeregisterTargetsCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../engine/step.js";
import { isErrorCode } from "../kit/errors.js";
import { STEP } from "./names.js";
import { requirePreState, targetSchema } from "./pre-state.js";
import { byTargetGroup, registrationState, type TaskTarget } from "./targets.js";

export const leaveLoadBalancersOutput = z.object({
  targets: z.array(targetSchema.extend({ state: z.enum(["registered", "draining", "not-registered", "group-gone"]) })),
});

type Output = z.infer<typeof leaveLoadBalancersOutput>;

async function states(ctx: StepContext, targets: readonly TaskTarget[]): Promise<Output["targets"]> {
  const out: Output["targets"] = [];
  for (const target of targets) out.push({ ...target, state: await registrationState(ctx, target) });
  return out;
}

export const leaveLoadBalancers: Step = {
  name: STEP.leaveLoadBalancers,
  destructive: false,
  output: leaveLoadBalancersOutput,

  async check(ctx): Promise<CheckResult> {
    const pre = requirePreState(ctx);
    const found = await states(ctx, pre.targets);
    if (found.some((t) => t.state === "registered")) return { done: false };
    const note = pre.targets.length === 0 ? "not registered in any target group of its service" : undefined;
    return { done: true, output: { targets: found }, ...(note === undefined ? {} : { note }) };
  },

  async act(ctx) {
    const pre = requirePreState(ctx);
    const registered = (await states(ctx, pre.targets)).filter((t) => t.state === "registered");
    for (const [arn, list] of byTargetGroup(registered)) {
      try {
        await ctx.change({
          service: "elbv2",
          family: "elbv2",
          command: new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: list.map((t) => ({ Id: t.targetId, Port: t.port })) }),
        });
      } catch (err) {
        // Deregistered or deleted meanwhile: the states read below say where things stand.
        if (!isErrorCode(err, "InvalidTargetException", "TargetGroupNotFoundException")) throw err;
      }
    }
    const output: Output = { targets: await states(ctx, pre.targets) };
    return output;
  },

  async verify(ctx) {
    const still = (await states(ctx, requirePreState(ctx).targets)).filter((t) => t.state === "registered");
    if (still.length > 0) throw new VerificationError(`still registered in ${still.map((t) => `${t.targetGroupArn} port ${t.port}`).join(", ")}`);
  },
};
