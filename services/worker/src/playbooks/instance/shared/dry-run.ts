import type { ApiFamily, StepContext } from "../../../engine/step.js";
import type { SendOptions } from "./call.js";
import { describeError, errorName, isTransient, requestIdOf } from "./errors.js";

export interface DryRunResult {
  permitted: boolean;
  detail: string;
}

/**
 * One EC2 call with `DryRun: true` (the caller puts it in the input). EC2 answers
 * DryRunOperation when the call would have been permitted and UnauthorizedOperation when it
 * would not; nothing changes either way. Any other client error means the call would fail for
 * another reason, which is reported as not permitted with its error name; throttling and server
 * errors are thrown so that the engine retries.
 */
export async function ec2DryRun(
  ctx: StepContext,
  family: ApiFamily,
  operation: string,
  call: (options: SendOptions) => Promise<{ $metadata: { requestId?: string | undefined } }>,
): Promise<DryRunResult> {
  await ctx.throttle(family);
  try {
    const out = await call({ abortSignal: ctx.signal });
    ctx.noteRequestId(out.$metadata.requestId);
    // Only possible if EC2 ignored DryRun: say so rather than pretend it was checked.
    return { permitted: true, detail: `${operation}: answered without DryRunOperation` };
  } catch (err) {
    ctx.noteRequestId(requestIdOf(err));
    const name = errorName(err);
    if (name === "DryRunOperation") return { permitted: true, detail: `${operation}: DryRunOperation (would succeed)` };
    if (name === "UnauthorizedOperation") {
      return { permitted: false, detail: `${operation}: UnauthorizedOperation (not permitted)` };
    }
    if (isTransient(err)) throw err;
    return { permitted: false, detail: `${operation}: ${describeError(err)} (would fail)` };
  }
}

/** AutoScaling, ELBv2 and GuardDuty offer no DryRun: say so instead of claiming a check. */
export function notChecked(service: "autoscaling" | "elbv2" | "guardduty", operation: string): DryRunResult {
  return { permitted: true, detail: `no DryRun for ${service}; not checked (${operation})` };
}

/** A check that cannot be made yet, e.g. on a group that act would create first. */
export function cannotCheckYet(operation: string, why: string): DryRunResult {
  return { permitted: true, detail: `${operation}: not checked, ${why}` };
}
