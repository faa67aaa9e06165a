// Holding the n-th request of an operation at the AWS proxy, to stop the code under test at an
// exact point (e.g. kill a worker between two calls).
import type { AwsProxy, AwsRequest, HoldHandle } from "./aws-proxy.js";

/** A request held at the proxy (a HoldHandle is thenable, so it travels wrapped). */
export interface Held {
  hold: HoldHandle;
  request: AwsRequest;
}

/**
 * Holds the `n`-th request of `operation` that reaches the proxy from now on: the earlier ones
 * are each held on arrival and let through at once (a new hold is in place before the previous
 * one is released, so no request slips past uncounted). Resolves once the n-th is held.
 */
export async function holdNth(proxy: AwsProxy, operation: string, n: number): Promise<Held> {
  let hold = proxy.hold(operation);
  for (let i = 1; i < n; i++) {
    await hold.arrived;
    const next = proxy.hold(operation);
    hold.release();
    hold = next;
  }
  return { hold, request: await hold.arrived };
}

/** Holds the first request of `then` that arrives after the n-th of `after` passed. */
export async function holdAfter(proxy: AwsProxy, after: { operation: string; n: number }, then: string): Promise<Held> {
  const first = await holdNth(proxy, after.operation, after.n);
  const next = proxy.hold(then);
  first.hold.release();
  return { hold: next, request: await next.arrived };
}
