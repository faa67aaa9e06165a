/**
 * A background pass every `intervalMs` in every process (the reconciler, the approval expiry
 * sweep, the egress sweep). The timer is unref'd, so it never keeps a process alive.
 */
export interface Periodic<T> {
  /** One pass now (what the timer runs too). Passes of one process never overlap: a call made
   * while a pass runs gets that pass. Rejects when the pass fails. */
  run(): Promise<T>;
  /** Stops the timer and waits for a pass in progress. Idempotent. */
  stop(): Promise<void>;
}

/** A pass that fails on the timer goes to `onFailure` (to be logged) and is tried at the next tick. */
export function startPeriodic<T>(intervalMs: number, pass: () => Promise<T>, onFailure: (err: unknown) => void): Periodic<T> {
  let running: Promise<T> | undefined;
  const run = (): Promise<T> => {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    run().catch(onFailure);
  }, intervalMs);
  timer.unref();
  return {
    run,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
