// Step 7: look again, from scratch, at what containment promised: the task ENI on its VPC's
// containment group only (that group without rules), the protection this remediation set still
// on, no registration left in the service's target groups, the task tagged. Where isolation could
// not be done (refused, a shared host), that is recorded, not failed: the fallback (stop-task)
// waits for a person. A task that has stopped meanwhile has nothing left to contain.
import { z } from "zod";
import type { Step, StepContext } from "../../engine/step.js";
import { checkingStep } from "../kit/checking-step.js";
import { isolationProblems, readEnisByIds } from "../kit/isolation/index.js";
import { parseOutput } from "../kit/json.js";
import { protectTaskOutput } from "./02-protect-task.js";
import { leaveLoadBalancersOutput } from "./03-leave-load-balancers.js";
import { isolateOutput } from "./04-isolate.js";
import { tagOutput } from "./05-tag.js";
import { taskOf } from "./ids.js";
import { STEP } from "./names.js";
import { requirePreState } from "./pre-state.js";
import { registrationState } from "./targets.js";
import { describeTask, isStopping, protectionOf } from "./task.js";

const verifyOutput = z.object({
  ok: z.boolean(),
  taskStatus: z.string(),
  isolation: z.string(),
  problems: z.array(z.string()),
});

type VerifyOutput = z.infer<typeof verifyOutput>;

function recorded<T>(ctx: StepContext, schema: z.ZodType<T>, step: string): T | null {
  const value = ctx.outputs.get(step);
  return value === undefined ? null : parseOutput(schema, value, `${step}'s output`);
}

async function inspect(ctx: StepContext): Promise<VerifyOutput> {
  const pre = requirePreState(ctx);
  const task = await describeTask(ctx, taskOf(ctx));
  if (!task || isStopping(task)) {
    return { ok: true, taskStatus: task?.lastStatus ?? "gone", isolation: "the task has stopped: nothing left to contain", problems: [] };
  }
  const problems: string[] = [];
  const isolated = recorded(ctx, isolateOutput, STEP.isolate);
  let isolation = "not attempted";
  if (isolated?.mode === "isolated") {
    const enis = await readEnisByIds(ctx, isolated.enis.map((e) => e.id));
    problems.push(...(await isolationProblems(ctx, enis)).problems);
    isolation = `task ENI ${isolated.enis.map((e) => e.id).join(", ")} on its VPC's containment group`;
  } else if (isolated) {
    isolation = `not isolated (${isolated.mode}): stop-task is the containment left, behind approval`;
  }

  const protection = recorded(ctx, protectTaskOutput, STEP.protectTask);
  if (protection?.protectionEnabled && !(await protectionOf(ctx, taskOf(ctx))).enabled) problems.push("scale-in protection is off");

  const left = recorded(ctx, leaveLoadBalancersOutput, STEP.leaveLoadBalancers);
  if (left) {
    for (const target of pre.targets) {
      if ((await registrationState(ctx, target)) === "registered") problems.push(`registered again in ${target.targetGroupArn} port ${target.port}`);
    }
  }

  const tags = recorded(ctx, tagOutput, STEP.tag);
  const have = new Map((task.tags ?? []).map((t) => [t.key, t.value]));
  for (const [key, value] of Object.entries(tags?.tags ?? {})) {
    if (have.get(key) !== value) problems.push(`tag ${key} is ${have.has(key) ? JSON.stringify(have.get(key)) : "missing"}`);
  }
  return { ok: problems.length === 0, taskStatus: task.lastStatus ?? "UNKNOWN", isolation, problems };
}

export const verifyContainment: Step = checkingStep(STEP.verify, verifyOutput, inspect);
