import type { ApiFamily, StepContext } from "../../../engine/step.js";
import { requestIdOf } from "./errors.js";

export interface SendOptions {
  abortSignal: AbortSignal;
}

/** What a call needs from its context: a step's, or the egress sweep's (which has no remediation). */
export type CallContext = Pick<StepContext, "throttle" | "signal" | "noteRequestId">;

interface WithMetadata {
  $metadata: { requestId?: string | undefined };
}

/**
 * Every AWS call of this playbook goes through here: a token of the account's bucket for the API
 * family first, the worker's abort signal passed in, the request id noted for the audit trail
 * (also when AWS answered with an error: the id is what AWS support asks for).
 *
 *   await send(ctx, "ec2-read", (o) => ctx.aws.ec2.send(new DescribeInstancesCommand(input), o));
 */
export async function send<T extends WithMetadata>(
  ctx: CallContext,
  family: ApiFamily,
  call: (options: SendOptions) => Promise<T>,
): Promise<T> {
  await ctx.throttle(family);
  try {
    const out = await call({ abortSignal: ctx.signal });
    ctx.noteRequestId(out.$metadata.requestId);
    return out;
  } catch (err) {
    ctx.noteRequestId(requestIdOf(err));
    throw err;
  }
}
