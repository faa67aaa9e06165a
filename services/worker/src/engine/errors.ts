import { classifyAwsError, errorLabel } from "@gdr/core/aws/errors";
import { unavailableInfrastructure } from "@gdr/core/db/errors";
import { LockLostError, LockTimeoutError } from "./limits/index.js";
import { VerificationError } from "./step.js";

export interface ClassifiedStepError {
  /**
   * `unavailable`: our own infrastructure (Postgres, Redis, a Redis lock that could not be kept)
   * failed, or this worker is stopping, not the remediation: postponed with backoff, never an
   * attempt spent, never final. `busy`: another worker holds a shared lock (e.g. a VPC's isolation
   * group) past the wait: postponed like a busy resource, never an attempt spent.
   */
  kind: "throttled" | "retryable" | "fatal" | "unavailable" | "busy";
  /** The AWS error code (or our own) recorded on the step. */
  code: string;
  /** A label from the fixed set, for metrics. */
  label: string;
  message: string;
}

/**
 * What is away when a step's error says our infrastructure is. `stopping`: this worker's stop
 * signal aborted the call (a deploy's deadline), which says nothing about the remediation.
 */
export type Unreachable = "postgres" | "redis" | "lock" | "stopping";

/**
 * Classifies a step's error once, at the step boundary: AWS errors from the SDK's name and HTTP
 * status; Postgres or Redis unreachable, or a lost resource lock (Redis could not be reached to
 * keep it, so another worker may hold it now), or the worker stopping, as `unavailable`; a busy
 * shared lock as `busy`; a failed verification as retryable; anything else through the same AWS
 * rules (unknown errors are fatal: retrying a bug does not fix it). `signal` is the step's abort
 * signal: a call aborted because the lock was lost fails with an AbortError whose reason is on
 * the signal. `stopping` is the worker's stop signal (EngineDeps.signal): once it is aborted, any
 * error is taken for the abort it causes (an AbortError, or whatever the SDK made of it).
 */
export function classifyStepError(err: unknown, signal?: AbortSignal, stopping?: AbortSignal): ClassifiedStepError {
  const message = err instanceof Error ? err.message : String(err);
  const away = unreachableOf(err, signal, stopping);
  if (away) return { kind: "unavailable", code: UNAVAILABLE_CODE[away], label: away === "postgres" ? "database" : "other", message };
  if (err instanceof VerificationError) {
    return { kind: "retryable", code: "VerificationFailed", label: "verification", message };
  }
  if (err instanceof LockTimeoutError) {
    // Another worker holds a shared lock (a burst of isolations in one VPC queues on its group's
    // lock): nothing is wrong with this remediation, so waiting spends no attempt.
    return { kind: "busy", code: err.name, label: "other", message };
  }
  const c = classifyAwsError(err);
  return { kind: c.kind, code: c.code, label: errorLabel(c), message: c.message };
}

const UNAVAILABLE_CODE: Record<Unreachable, string> = {
  postgres: "DatabaseUnavailable",
  redis: "RedisUnavailable",
  lock: "LockLostError",
  stopping: "WorkerStopping",
};

/**
 * Which piece of our infrastructure an error (or the abort behind it) says is away, if any;
 * `stopping` (the worker's stop signal, aborted) wins over whatever the error is.
 */
export function unreachableOf(err: unknown, signal?: AbortSignal, stopping?: AbortSignal): Unreachable | null {
  if (stopping?.aborted === true) return "stopping";
  if (err instanceof LockLostError || (signal?.aborted === true && signal.reason instanceof LockLostError)) return "lock";
  return unavailableInfrastructure(err);
}
