// Reading an AWS SDK error in a step: every answer here is a read of core's one classification
// (classifyAwsError: the error's code and HTTP status, never its message text), so a step and the
// engine can never disagree on what an error is.
import { awsRequestId, classifyAwsError, type ClassifiedAwsError } from "@gdr/core/aws/errors";

export { awsRequestId, classifyAwsError, type ClassifiedAwsError };

/** The AWS error code (`InvalidGroup.Duplicate`), as core classifies it (`UnknownError` when none). */
export function errorName(err: unknown): string {
  return classifyAwsError(err).code;
}

/** The HTTP status AWS answered with, when there was an answer. */
export function httpStatus(err: unknown): number | undefined {
  return classifyAwsError(err).httpStatus;
}

/** A short description for an output or a log line: the error's code and status, no message text. */
export function describeError(err: unknown): string {
  const c = classifyAwsError(err);
  return c.httpStatus === undefined ? c.code : `${c.code} (HTTP ${c.httpStatus})`;
}

/** Throttling and server-side failures: worth another attempt later, never a verdict. */
export function isTransient(err: unknown): boolean {
  return classifyAwsError(err).kind !== "fatal";
}

/** Whether AWS answered with one of these codes (e.g. "already gone" answers a step may accept). */
export function isErrorCode(err: unknown, ...codes: readonly string[]): boolean {
  return codes.includes(classifyAwsError(err).code);
}
