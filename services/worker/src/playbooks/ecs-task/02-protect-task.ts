// Step 2: keep the task's service from replacing it while it is contained: scale-in protection
// (protection.ts) for a service's task. A replaced task takes its evidence with it (a stopped
// task's ENI is deleted, a Fargate task's storage with it). What protection does not cover is said
// in the plan and the record (PROTECTION_LEAVES); leaving the load balancer is the next step.
//
// Protection is a safeguard for the evidence, not containment: when ECS cannot set it (any answer
// but throttling) the step is recorded unavailable with ECS's answer and isolation goes ahead.
// (moto 5.2.5 answers UpdateTaskProtection and GetTaskProtection with HTTP 500: the demo shows that.)
import { z } from "zod";
import { VerificationError, notAvailable, type CheckResult, type Step, type StepContext } from "../../engine/step.js";
import { classifyAwsError, describeError } from "../kit/errors.js";
import { taskOf } from "./ids.js";
import { STEP } from "./names.js";
import { planNote } from "./plan-note.js";
import { requirePreState } from "./pre-state.js";
import { PROTECTION_LEAVES, PROTECTION_MINUTES, setProtection } from "./protection.js";
import { protectionOf } from "./task.js";

export const protectTaskOutput = z.object({
  serviceName: z.string().nullable(),
  /** Whether this remediation's call turned protection on (release turns it off again). */
  protectionEnabled: z.boolean(),
  expiresInMinutes: z.number().int().nullable(),
  leaves: z.string(),
});

export type ProtectTaskOutput = z.infer<typeof protectTaskOutput>;

/**
 * Marked (an audit event) before UpdateTaskProtection: a re-run that finds the task protected
 * tells protection this remediation set before dying (release clears it) from protection the
 * workload set itself (left alone).
 */
export const PROTECTING = "ecs.task_protection_set";

const STANDALONE =
  "a standalone task (not in a service): no service scales it in or replaces it, and ECS offers scale-in protection to a service's tasks only";

/** Protection as ECS reports it, or null when it cannot be read (the step then acts, or says why not). */
async function readProtection(ctx: StepContext): Promise<{ enabled: boolean; expiresAt: string | null } | null> {
  try {
    return await protectionOf(ctx, taskOf(ctx));
  } catch (err) {
    if (classifyAwsError(err).kind === "throttled") throw err;
    return null;
  }
}

export const protectTask: Step = {
  name: STEP.protectTask,
  destructive: false,
  output: protectTaskOutput,

  async check(ctx): Promise<CheckResult> {
    const pre = requirePreState(ctx);
    if (pre.serviceName === null) {
      return { done: true, output: { serviceName: null, protectionEnabled: false, expiresInMinutes: null, leaves: STANDALONE }, note: STANDALONE };
    }
    const found = await readProtection(ctx);
    if (found?.enabled !== true) return { done: false };
    // Protected already: by this remediation before a crash (its mark says so), or by the
    // workload, whose expiry is not reset and whose protection release leaves alone.
    const ours = await ctx.marked(PROTECTING);
    return {
      done: true,
      output: { serviceName: pre.serviceName, protectionEnabled: ours, expiresInMinutes: ours ? PROTECTION_MINUTES : null, leaves: PROTECTION_LEAVES },
      // The workload's expiry may be minutes away: the note says when, so a person can extend it.
      ...(ours ? {} : { note: `already protected from scale-in by the workload: left as it is (it expires ${found.expiresAt ?? "when the workload says"})` }),
    };
  },

  async act(ctx) {
    const pre = requirePreState(ctx);
    planNote(ctx, PROTECTION_LEAVES);
    const task = taskOf(ctx);
    await ctx.audit(PROTECTING, { taskArn: task.taskArn, cluster: task.cluster, expiresInMinutes: PROTECTION_MINUTES });
    let failures: string[];
    try {
      failures = await setProtection(ctx, task, true);
    } catch (err) {
      if (classifyAwsError(err).kind === "throttled") throw err;
      return notAvailable(`UpdateTaskProtection failed (${describeError(err)}): the task is not protected from the service's scale-in and deployments`, {
        serviceName: pre.serviceName,
        protectionEnabled: false,
        expiresInMinutes: null,
        leaves: PROTECTION_LEAVES,
      });
    }
    if (failures.length > 0) {
      return notAvailable(`ECS did not protect the task: ${failures.join("; ")}`, { serviceName: pre.serviceName, protectionEnabled: false, expiresInMinutes: null, leaves: PROTECTION_LEAVES });
    }
    return { serviceName: pre.serviceName, protectionEnabled: true, expiresInMinutes: PROTECTION_MINUTES, leaves: PROTECTION_LEAVES };
  },

  async verify(ctx) {
    if ((await readProtection(ctx))?.enabled === false) throw new VerificationError("the task is not protected from scale-in");
  },
};
