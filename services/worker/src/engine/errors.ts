import { classifyAwsError, errorLabel } from "@gdr/core/aws/errors";
import { isTransientDbError } from "@gdr/core/db/errors";
import { LockLostError, LockTimeoutError } from "./limits/index.js";
import { VerificationError } from "./step.js";

export interface ClassifiedStepError {
  kind: "throttled" | "retryable" | "fatal";
  /** The AWS error code (or our own) recorded on the step. */
  code: string;
  /** A label from the fixed set, for metrics. */
  label: string;
  message: string;
}

/**
 * Classifies a step's error once, at the step boundary: AWS errors from the SDK's name and HTTP
 * status; a failed verification, a lost or busy lock and a transient database error as
 * retryable; anything else
 * through the same AWS rules (unknown errors are fatal: retrying a bug does not fix it).
 */
export function classifyStepError(err: unknown): ClassifiedStepError {
  if (err instanceof VerificationError) {
    return { kind: "retryable", code: "VerificationFailed", label: "verification", message: err.message };
  }
  if (err instanceof LockLostError || err instanceof LockTimeoutError) {
    // Another worker holds (or took over) a shared lock: the work is checked again on retry.
    return { kind: "retryable", code: err.name, label: "other", message: err.message };
  }
  if (isTransientDbError(err)) {
    return { kind: "retryable", code: "DatabaseUnavailable", label: "database", message: err instanceof Error ? err.message : String(err) };
  }
  const c = classifyAwsError(err);
  return { kind: c.kind, code: c.code, label: errorLabel(c), message: c.message };
}
