import { classifyAwsError, errorLabel } from "@gdr/core/aws/errors";
import { unavailableInfrastructure } from "@gdr/core/db/errors";
import { LockLostError, LockTimeoutError } from "./limits/index.js";
import { VerificationError } from "./step.js";

export interface ClassifiedStepError {
  /**
   * `unavailable`: our own infrastructure (Postgres, Redis, a Redis lock that could not be kept)
   * failed, not the remediation: postponed with backoff, never an attempt spent, never final.
   */
  kind: "throttled" | "retryable" | "fatal" | "unavailable";
  /** The AWS error code (or our own) recorded on the step. */
  code: string;
  /** A label from the fixed set, for metrics. */
  label: string;
  message: string;
}

/** What is away when a step's error says our infrastructure is. */
export type Unreachable = "postgres" | "redis" | "lock";

/**
 * Classifies a step's error once, at the step boundary: AWS errors from the SDK's name and HTTP
 * status; Postgres or Redis unreachable, or a lost resource lock (Redis could not be reached to
 * keep it, so another worker may hold it now), as `unavailable`; a failed verification and a busy
 * lock as retryable; anything else through the same AWS rules (unknown errors are fatal: retrying
 * a bug does not fix it). `signal` is the step's abort signal: a call aborted because the lock
 * was lost fails with an AbortError whose reason is on the signal.
 */
export function classifyStepError(err: unknown, signal?: AbortSignal): ClassifiedStepError {
  const message = err instanceof Error ? err.message : String(err);
  const away = unreachableOf(err, signal);
  if (away) return { kind: "unavailable", code: UNAVAILABLE_CODE[away], label: away === "postgres" ? "database" : "other", message };
  if (err instanceof VerificationError) {
    return { kind: "retryable", code: "VerificationFailed", label: "verification", message };
  }
  if (err instanceof LockTimeoutError) {
    // Another worker holds a shared lock: the work is checked again on retry.
    return { kind: "retryable", code: err.name, label: "other", message };
  }
  const c = classifyAwsError(err);
  return { kind: c.kind, code: c.code, label: errorLabel(c), message: c.message };
}

const UNAVAILABLE_CODE: Record<Unreachable, string> = { postgres: "DatabaseUnavailable", redis: "RedisUnavailable", lock: "LockLostError" };

/** Which piece of our infrastructure an error (or the abort behind it) says is away, if any. */
export function unreachableOf(err: unknown, signal?: AbortSignal): Unreachable | null {
  if (err instanceof LockLostError || (signal?.aborted === true && signal.reason instanceof LockLostError)) return "lock";
  return unavailableInfrastructure(err);
}
