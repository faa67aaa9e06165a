// Classifies an AWS SDK v3 error once, from its structured fields: `name` (the AWS error code),
// `$metadata.httpStatusCode`, `$retryable`, `$fault`, and Node's `code` for socket errors. Never
// from message text: messages change wording, codes are an API contract.

export type AwsErrorKind = "throttled" | "retryable" | "fatal";

export interface ClassifiedAwsError {
  /** throttled → retry later and slow the queue; retryable → retry with backoff; fatal → stop. */
  kind: AwsErrorKind;
  /** The AWS error code (`InvalidInstanceID.NotFound`), a Node socket code, or `UnknownError`. */
  code: string;
  httpStatus?: number;
  message: string;
  requestId?: string;
}

/** The codes AWS services use for "slow down"; the SDK's own retry strategy knows the same set. */
const THROTTLING_CODES = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "RequestLimitExceeded", // EC2
  "TooManyRequestsException",
  "SlowDown",
  "ProvisionedThroughputExceededException",
  "PriorRequestNotComplete",
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
  "TransactionInProgressException",
  "KmsThrottled", // SQS
]);

const SERVER_CODES = new Set([
  "InternalError",
  "InternalFailure",
  "InternalServerError",
  "InternalServerException",
  "InternalServiceError",
  "InternalServerErrorException", // GuardDuty
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "Unavailable",
  // AutoScaling: another update to the same group is still in progress. Modeled AutoScaling
  // errors carry the shape name (`…Fault`) as `name` and the wire code in `Code`.
  "ResourceContention",
  "ResourceContentionFault",
  // IAM: two requests changed the same entity at once (two remediations writing one role's inline
  // policies): the request did nothing, and sent again it applies. Wire code first, then the
  // modeled error's name.
  "ConcurrentModification",
  "ConcurrentModificationException",
]);

const TIMEOUT_CODES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException", "ETIMEDOUT"]);

/** Node and undici socket error codes: the request may never have reached AWS. */
const NETWORK_CODES = new Set([
  "ECONNRESET", // also what Node sets for "socket hang up"
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/**
 * Signatures that expired on the way (clock skew, a token that lapsed mid-flight): a retry signs
 * again with a corrected clock and fresh credentials from the cache.
 */
const EXPIRED_CODES = new Set([
  "ExpiredToken",
  "ExpiredTokenException",
  "RequestExpired",
  "RequestTimeTooSkewed",
]);

const ABORT_CODES = new Set(["AbortError", "ABORT_ERR"]);

interface ErrorFields {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown; requestId?: unknown; extendedRequestId?: unknown };
}

/**
 * Sorts an error into throttled, retryable or fatal. Unknown errors are fatal: retrying a bug does
 * not fix it. An aborted call (AbortError) is retryable: the worker is stopping and the job will
 * run again elsewhere. A permitted EC2 DryRun also arrives as an error: check `isDryRunSuccess`
 * before classifying.
 */
export function classifyAwsError(err: unknown): ClassifiedAwsError {
  const fields = asFields(err);
  const code = errorCode(fields);
  const httpStatus = typeof fields.$metadata?.httpStatusCode === "number" ? fields.$metadata.httpStatusCode : undefined;
  const requestId = awsRequestId(err);
  const base = {
    code,
    message: typeof fields.message === "string" ? fields.message : String(err),
    ...(httpStatus === undefined ? {} : { httpStatus }),
    ...(requestId === undefined ? {} : { requestId }),
  };
  return { kind: kindOf(code, httpStatus, fields), ...base };
}

function kindOf(code: string, httpStatus: number | undefined, fields: ErrorFields): AwsErrorKind {
  const retryable = isRecord(fields.$retryable) ? fields.$retryable : undefined;
  if (ABORT_CODES.has(code)) return "retryable";
  if (THROTTLING_CODES.has(code) || httpStatus === 429 || retryable?.throttling === true) return "throttled";
  if (SERVER_CODES.has(code) || TIMEOUT_CODES.has(code) || NETWORK_CODES.has(code) || EXPIRED_CODES.has(code)) {
    return "retryable";
  }
  if (httpStatus !== undefined && httpStatus >= 500) return "retryable";
  if (retryable !== undefined || fields.$fault === "server") return "retryable";
  return "fatal";
}

/**
 * EC2 answers a DryRun it would have allowed with the error `DryRunOperation`, and one it would
 * refuse with `UnauthorizedOperation`; only the first means "permitted".
 */
export function isDryRunSuccess(err: unknown): boolean {
  return errorCode(asFields(err)) === "DryRunOperation";
}

/** The request id of an SDK output or error (`$metadata.requestId`, else `extendedRequestId`). */
export function awsRequestId(outputOrError: unknown): string | undefined {
  const metadata = asFields(outputOrError).$metadata;
  if (!isRecord(metadata)) return undefined;
  for (const value of [metadata.requestId, metadata.extendedRequestId]) {
    if (typeof value === "string" && value !== "") return value;
  }
  return undefined;
}

/** The fixed set of error labels for metrics: any AWS code maps into it, so cardinality stays bounded. */
export const ERROR_LABELS = [
  "throttled",
  "server_error",
  "network",
  "timeout",
  "aborted",
  "expired_credentials",
  "access_denied",
  "not_found",
  "validation",
  "unsupported",
  "invalid_state",
  "quota",
  "other",
] as const;

export type ErrorLabel = (typeof ERROR_LABELS)[number];

const ACCESS_DENIED_CODES = new Set([
  "UnauthorizedOperation",
  "AccessDenied",
  "AccessDeniedException",
  "AuthFailure",
  "UnauthorizedException",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "InvalidSignatureException",
  "OptInRequired",
  "Blocked",
  "CredentialsProviderError",
]);

const VALIDATION_CODES = new Set([
  "ValidationError",
  "ValidationException",
  "InvalidParameter",
  "InvalidParameterValue",
  "InvalidParameterCombination",
  "InvalidParameterException",
  "InvalidParameterValueException",
  "InvalidInput",
  "InvalidRequest",
  "InvalidRequestException",
  "MissingParameter",
  "BadRequestException",
  "SerializationException",
  "InvalidAwsTarget", // ours: an account id or region that failed validation before any call
]);

const UNSUPPORTED_CODES = new Set(["UnsupportedOperation", "Unsupported", "UnsupportedOperationException"]);

const INVALID_STATE_CODES = new Set([
  "IncorrectState",
  "IncorrectInstanceState",
  "InvalidState",
  "DependencyViolation",
  "ResourceInUse",
  "ResourceInUseException",
  "ResourceInUseFault",
  "OperationNotPermitted",
  "OperationNotPermittedException",
  "ConflictException",
  "ResourceContention",
  "ResourceContentionFault",
  "ConcurrentModification",
  "ConcurrentModificationException",
  "ScalingActivityInProgressFault",
  "InstanceRefreshInProgressFault",
]);

/** Maps a classified error to one of `ERROR_LABELS`. */
export function errorLabel(classified: Pick<ClassifiedAwsError, "kind" | "code" | "httpStatus">): ErrorLabel {
  const { code, httpStatus } = classified;
  if (classified.kind === "throttled") return "throttled";
  if (ABORT_CODES.has(code)) return "aborted";
  if (TIMEOUT_CODES.has(code)) return "timeout";
  if (NETWORK_CODES.has(code)) return "network";
  if (EXPIRED_CODES.has(code)) return "expired_credentials";
  if (INVALID_STATE_CODES.has(code)) return "invalid_state";
  if (classified.kind === "retryable") return "server_error";
  if (ACCESS_DENIED_CODES.has(code) || httpStatus === 403) return "access_denied";
  if (/(NotFound(Exception|Fault)?|DoesNotExist)$/.test(code) || code.startsWith("NoSuch")) {
    return "not_found";
  }
  if (VALIDATION_CODES.has(code) || code.endsWith(".Malformed")) return "validation";
  if (UNSUPPORTED_CODES.has(code)) return "unsupported";
  if (/((LimitExceeded|QuotaExceeded)(Exception|Fault)?|OverLimit)$/.test(code)) {
    return "quota";
  }
  if (code.startsWith("TooMany")) return "quota"; // ELBv2's TooManyTargetsException and kin
  if (httpStatus === 404) return "not_found";
  return "other";
}

function errorCode(fields: ErrorFields): string {
  // Socket errors carry their cause in `code` (name is just "Error"); AWS errors in `name`.
  if (typeof fields.code === "string" && (NETWORK_CODES.has(fields.code) || ABORT_CODES.has(fields.code))) {
    return fields.code === "ABORT_ERR" ? "AbortError" : fields.code;
  }
  if (typeof fields.name === "string" && fields.name !== "" && fields.name !== "Error") {
    // EC2's documentation writes some codes as `Client.UnauthorizedOperation`; the SDK usually drops the prefix.
    return fields.name.replace(/^(Client|Server)\./, "");
  }
  return "UnknownError";
}

function asFields(value: unknown): ErrorFields {
  return isRecord(value) ? value : {};
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
