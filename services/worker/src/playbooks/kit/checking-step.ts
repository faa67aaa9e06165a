// The final verification every playbook ends its containment with: look again, from scratch, at
// what containment promised. A check only (checkOnly): finding everything in place is recorded
// `verified`; anything off fails the step with what was found (retried, as a verification).
import type { z } from "zod";
import { VerificationError, type CheckResult, type Json, type Step, type StepContext } from "../../engine/step.js";

/** What an inspection found: `ok` when every promise holds, else the problems in words. */
export interface Inspection {
  ok: boolean;
  problems: string[];
}

export function checkingStep<T extends Inspection & Json>(name: string, output: z.ZodType<T>, inspect: (ctx: StepContext) => Promise<T>): Step {
  return {
    name,
    destructive: false,
    checkOnly: true,
    output,

    async check(ctx): Promise<CheckResult> {
      const found = await inspect(ctx);
      return found.ok ? { done: true, output: found } : { done: false, state: found };
    },

    async act(ctx) {
      const found = await inspect(ctx);
      if (!found.ok) throw new VerificationError(`containment not in place: ${found.problems.join("; ")}`);
      return found;
    },

    async verify() {
      // act is the verification.
    },
  };
}
