import type { Unreachable } from "./errors.js";

/**
 * What the runner asks of the BullMQ processor besides success and failure. They are errors so
 * that they unwind the runner, but they are not failures: none of them consumes an attempt.
 */

/** Try the job again later: paused, resource busy, a shared lock busy, isolation cap reached. */
export class Postpone extends Error {
  override readonly name = "Postpone";
  constructor(
    readonly delayMs: number,
    readonly why: "paused" | "resource_locked" | "lock_busy" | "isolation_cap",
    /** The playbook whose limit held the job back (the isolation cap), for the log. */
    readonly playbook?: string,
  ) {
    super(`postponed ${delayMs} ms: ${why}`);
  }
}

/**
 * Our own infrastructure is away (Postgres, Redis, or a Redis lock could not be kept): nothing is
 * wrong with the remediation, so the job is postponed with exponential backoff and jitter and no
 * attempt is spent, however long the outage lasts (the processor picks the delay).
 */
export class Unavailable extends Error {
  override readonly name = "Unavailable";
  constructor(
    readonly what: Unreachable,
    override readonly cause: unknown,
  ) {
    super(`${what} unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** AWS throttled us: slow the whole queue down (BullMQ rateLimit), then retry this job. */
export class SlowDown extends Error {
  override readonly name = "SlowDown";
  constructor(readonly delayMs: number) {
    super(`throttled by AWS; queue slowed for ${delayMs} ms`);
  }
}

/** The remediation is finished as failed; BullMQ must not retry it. */
export class FailedForGood extends Error {
  override readonly name = "FailedForGood";
}
