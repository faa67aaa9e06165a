// Reading AWS SDK errors by their name and HTTP status, never by message text (STYLE: classify
// errors once, from `error.name` and `$metadata.httpStatusCode`).

const THROTTLING = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
]);

function field(err: unknown, key: string): unknown {
  return typeof err === "object" && err !== null ? (err as Record<string, unknown>)[key] : undefined;
}

export function errorName(err: unknown): string | undefined {
  const name = field(err, "name");
  return typeof name === "string" ? name : undefined;
}

export function httpStatus(err: unknown): number | undefined {
  const status = field(field(err, "$metadata"), "httpStatusCode");
  return typeof status === "number" ? status : undefined;
}

export function requestIdOf(err: unknown): string | undefined {
  const id = field(field(err, "$metadata"), "requestId");
  return typeof id === "string" ? id : undefined;
}

/** A short description for an output or a log line: the error's name and status, no message text. */
export function describeError(err: unknown): string {
  const name = errorName(err) ?? "Error";
  const status = httpStatus(err);
  return status === undefined ? name : `${name} (HTTP ${status})`;
}

/** Throttling and server-side failures: worth another attempt later, never a verdict. */
export function isTransient(err: unknown): boolean {
  const name = errorName(err);
  const status = httpStatus(err);
  return (name !== undefined && THROTTLING.has(name)) || (status !== undefined && status >= 500 && status !== 501);
}
