/**
 * Start-up checks: before a service starts its loops, each dependency it cannot work without is
 * asked once. A dependency that is wrongly configured (a wrong password, a missing database or
 * queue) or not there at all never becomes right by retrying, and a process that keeps running
 * and warning hides the problem from whoever deploys it; so a failed check ends the start with one
 * line that names the dependency and what to do (runMain prints it and exits 2). Outages after a
 * successful start are another matter: the services ride those out and retry.
 */
export class StartupError extends Error {
  override readonly name = "StartupError";
  constructor(
    readonly dependency: string,
    message: string,
  ) {
    // One line, whatever a driver put in its message.
    super(message.replace(/\s*\n\s*/g, " "));
  }
}

export interface StartupCheck {
  /** What is checked, as the operator knows it: "postgres", "redis", "sqs". */
  dependency: string;
  /** Throws when the dependency cannot serve this service. */
  check(signal: AbortSignal): Promise<void>;
  /** The one line an operator reads: what failed, where, and what to do. */
  explain(err: unknown): string;
}

/** How long one check may take before it counts as unreachable. */
const DEFAULT_CHECK_TIMEOUT_MS = 10_000;

/** Runs the checks in order; the first that fails throws a StartupError carrying its explanation. */
export async function checkStartup(checks: readonly StartupCheck[], timeoutMs = DEFAULT_CHECK_TIMEOUT_MS): Promise<void> {
  for (const c of checks) {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      await Promise.race([
        c.check(signal),
        new Promise<never>((_resolve, reject) => {
          signal.addEventListener("abort", () => { reject(new TimeoutError(`no answer within ${timeoutMs} ms`)); }, { once: true });
        }),
      ]);
    } catch (err) {
      throw new StartupError(c.dependency, c.explain(err));
    }
  }
}

/** A check that did not answer in time: explained as "unreachable". */
export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
}

/** The first line of an error's message (drivers add detail and stacks on later lines). */
export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split("\n")[0] ?? "").trim() || (err instanceof Error ? err.name : "unknown error");
}

/** The code a driver or the OS put on an error (ECONNREFUSED, 28P01, …), if any. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") return code;
  // AggregateError (a host with several addresses) carries the codes on its errors.
  const inner = (err as { errors?: unknown }).errors;
  if (Array.isArray(inner)) return errorCode(inner[0]);
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err ? errorCode(cause) : undefined;
}

/** Network-level failures: the dependency is not there (or not at this address). */
export function isUnreachable(err: unknown): boolean {
  if (err instanceof TimeoutError) return true;
  const code = errorCode(err);
  return code !== undefined && ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"].includes(code);
}
