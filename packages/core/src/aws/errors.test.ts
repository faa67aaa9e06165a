import { ResourceContentionFault, LimitExceededFault } from "@aws-sdk/client-auto-scaling";
import { EC2ServiceException } from "@aws-sdk/client-ec2";
import { TargetGroupNotFoundException } from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  AccessDeniedException,
  BadRequestException,
  InternalServerErrorException,
} from "@aws-sdk/client-guardduty";
import { ConcurrentModificationException, IAMServiceException } from "@aws-sdk/client-iam";
import { QueueDoesNotExist } from "@aws-sdk/client-sqs";
import { ExpiredTokenException, STSServiceException } from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";
import {
  ERROR_LABELS,
  awsRequestId,
  classifyAwsError,
  errorLabel,
  isDryRunSuccess,
  type AwsErrorKind,
  type ErrorLabel,
} from "./errors.js";
import { AwsTargetError } from "./targets.js";

/** An EC2 error as the SDK builds it for a code EC2 does not model (nearly all of them). */
function ec2Error(name: string, httpStatusCode: number, requestId = "req-ec2"): EC2ServiceException {
  return new EC2ServiceException({
    name,
    $fault: httpStatusCode >= 500 ? "server" : "client",
    $metadata: { httpStatusCode, requestId },
    message: `${name} happened`,
  });
}

function socketError(code: string, message = "socket trouble"): Error {
  return Object.assign(new Error(message), { code });
}

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode, requestId: "req-x" } });

const cases: [string, unknown, AwsErrorKind, string, ErrorLabel][] = [
  // throttling
  ["EC2 RequestLimitExceeded (503)", ec2Error("RequestLimitExceeded", 503), "throttled", "RequestLimitExceeded", "throttled"],
  ["ThrottlingException (400)", new STSServiceException({ name: "ThrottlingException", $fault: "client", ...meta(400) }), "throttled", "ThrottlingException", "throttled"],
  ["Throttling (AutoScaling, query)", ec2Error("Throttling", 400), "throttled", "Throttling", "throttled"],
  ["TooManyRequestsException", ec2Error("TooManyRequestsException", 429), "throttled", "TooManyRequestsException", "throttled"],
  ["any code with HTTP 429", ec2Error("SomethingNew", 429), "throttled", "SomethingNew", "throttled"],
  ["$retryable.throttling", Object.assign(ec2Error("Odd", 400), { $retryable: { throttling: true } }), "throttled", "Odd", "throttled"],
  ["SlowDown", ec2Error("SlowDown", 503), "throttled", "SlowDown", "throttled"],
  ["PriorRequestNotComplete", ec2Error("PriorRequestNotComplete", 400), "throttled", "PriorRequestNotComplete", "throttled"],
  // retryable
  ["EC2 InternalError (500)", ec2Error("InternalError", 500), "retryable", "InternalError", "server_error"],
  ["Unavailable (503)", ec2Error("Unavailable", 503), "retryable", "Unavailable", "server_error"],
  ["unknown 502", ec2Error("502", 502), "retryable", "502", "server_error"],
  ["GuardDuty InternalServerErrorException", new InternalServerErrorException({ message: "boom", $metadata: { httpStatusCode: 500 } }), "retryable", "InternalServerErrorException", "server_error"],
  ["AutoScaling ResourceContentionFault", new ResourceContentionFault({ message: "busy", $metadata: { httpStatusCode: 500 } }), "retryable", "ResourceContentionFault", "invalid_state"],
  ["IAM ConcurrentModificationException", new ConcurrentModificationException({ message: "another change to the role", $metadata: { httpStatusCode: 409 } }), "retryable", "ConcurrentModificationException", "invalid_state"],
  ["IAM ConcurrentModification (wire code)", new IAMServiceException({ name: "ConcurrentModification", $fault: "client", ...meta(409) }), "retryable", "ConcurrentModification", "invalid_state"],
  ["RequestTimeout", ec2Error("RequestTimeout", 400), "retryable", "RequestTimeout", "timeout"],
  ["SDK TimeoutError", Object.assign(new Error("Connection timed out after 1000 ms"), { name: "TimeoutError" }), "retryable", "TimeoutError", "timeout"],
  ["ECONNRESET (socket hang up)", socketError("ECONNRESET", "socket hang up"), "retryable", "ECONNRESET", "network"],
  ["ECONNREFUSED", socketError("ECONNREFUSED"), "retryable", "ECONNREFUSED", "network"],
  ["ETIMEDOUT", socketError("ETIMEDOUT"), "retryable", "ETIMEDOUT", "timeout"],
  ["EPIPE", socketError("EPIPE"), "retryable", "EPIPE", "network"],
  ["EAI_AGAIN", socketError("EAI_AGAIN"), "retryable", "EAI_AGAIN", "network"],
  ["AbortError (worker stopping)", Object.assign(new Error("Request aborted"), { name: "AbortError" }), "retryable", "AbortError", "aborted"],
  ["DOMException abort", new DOMException("This operation was aborted", "AbortError"), "retryable", "AbortError", "aborted"],
  ["STS ExpiredTokenException", new ExpiredTokenException({ message: "expired", $metadata: { httpStatusCode: 400 } }), "retryable", "ExpiredTokenException", "expired_credentials"],
  ["$retryable without throttling", Object.assign(ec2Error("Flaky", 400), { $retryable: {} }), "retryable", "Flaky", "server_error"],
  // fatal
  ["UnauthorizedOperation", ec2Error("UnauthorizedOperation", 403), "fatal", "UnauthorizedOperation", "access_denied"],
  ["Client.UnauthorizedOperation", ec2Error("Client.UnauthorizedOperation", 403), "fatal", "UnauthorizedOperation", "access_denied"],
  ["AccessDenied (STS)", new STSServiceException({ name: "AccessDenied", $fault: "client", ...meta(403) }), "fatal", "AccessDenied", "access_denied"],
  ["GuardDuty AccessDeniedException", new AccessDeniedException({ message: "no", $metadata: { httpStatusCode: 403 } }), "fatal", "AccessDeniedException", "access_denied"],
  ["AuthFailure", ec2Error("AuthFailure", 401), "fatal", "AuthFailure", "access_denied"],
  ["InvalidInstanceID.NotFound", ec2Error("InvalidInstanceID.NotFound", 400), "fatal", "InvalidInstanceID.NotFound", "not_found"],
  ["InvalidInstanceID.Malformed", ec2Error("InvalidInstanceID.Malformed", 400), "fatal", "InvalidInstanceID.Malformed", "validation"],
  ["InvalidGroup.NotFound", ec2Error("InvalidGroup.NotFound", 400), "fatal", "InvalidGroup.NotFound", "not_found"],
  ["ELBv2 TargetGroupNotFoundException", new TargetGroupNotFoundException({ message: "gone", $metadata: { httpStatusCode: 400 } }), "fatal", "TargetGroupNotFoundException", "not_found"],
  ["SQS QueueDoesNotExist", new QueueDoesNotExist({ message: "gone", $metadata: { httpStatusCode: 400 } }), "fatal", "QueueDoesNotExist", "not_found"],
  ["ValidationError", ec2Error("ValidationError", 400), "fatal", "ValidationError", "validation"],
  ["InvalidParameterValue", ec2Error("InvalidParameterValue", 400), "fatal", "InvalidParameterValue", "validation"],
  ["GuardDuty BadRequestException", new BadRequestException({ message: "bad", $metadata: { httpStatusCode: 400 } }), "fatal", "BadRequestException", "validation"],
  ["UnsupportedOperation", ec2Error("UnsupportedOperation", 400), "fatal", "UnsupportedOperation", "unsupported"],
  ["IncorrectInstanceState", ec2Error("IncorrectInstanceState", 400), "fatal", "IncorrectInstanceState", "invalid_state"],
  ["AutoScaling LimitExceededFault", new LimitExceededFault({ message: "max", $metadata: { httpStatusCode: 400 } }), "fatal", "LimitExceededFault", "quota"],
  ["RulesPerSecurityGroupLimitExceeded", ec2Error("RulesPerSecurityGroupLimitExceeded", 400), "fatal", "RulesPerSecurityGroupLimitExceeded", "quota"],
  ["our own invalid target", new AwsTargetError("bad account"), "fatal", "InvalidAwsTarget", "validation"],
  ["plain Error (a bug)", new TypeError("x is undefined"), "fatal", "TypeError", "other"],
  ["a thrown string", "oops", "fatal", "UnknownError", "other"],
  ["undefined", undefined, "fatal", "UnknownError", "other"],
];

describe("classifyAwsError", () => {
  it.each(cases)("%s", (_title, err, kind, code, label) => {
    const c = classifyAwsError(err);
    expect({ kind: c.kind, code: c.code, label: errorLabel(c) }).toEqual({ kind, code, label });
  });

  it("never reads the message: a throttling message on a fatal code stays fatal", () => {
    const err = ec2Error("InvalidParameterValue", 400);
    err.message = "Rate exceeded, throttling, please retry (ECONNRESET)";
    expect(classifyAwsError(err).kind).toBe("fatal");
  });

  it("keeps the HTTP status, message and request id", () => {
    expect(classifyAwsError(ec2Error("RequestLimitExceeded", 503, "abc-123"))).toEqual({
      kind: "throttled",
      code: "RequestLimitExceeded",
      httpStatus: 503,
      message: "RequestLimitExceeded happened",
      requestId: "abc-123",
    });
    const net = classifyAwsError(socketError("ECONNRESET", "socket hang up"));
    expect(net).toEqual({ kind: "retryable", code: "ECONNRESET", message: "socket hang up" });
    expect("httpStatus" in net).toBe(false);
  });
});

describe("isDryRunSuccess", () => {
  it("is true only for DryRunOperation", () => {
    expect(isDryRunSuccess(ec2Error("DryRunOperation", 412))).toBe(true);
    expect(isDryRunSuccess(ec2Error("UnauthorizedOperation", 403))).toBe(false);
    expect(isDryRunSuccess(new Error("DryRunOperation"))).toBe(false); // message text means nothing
    expect(isDryRunSuccess(undefined)).toBe(false);
  });
});

describe("errorLabel", () => {
  it("maps any code into the fixed set", () => {
    const labels = new Set<string>(ERROR_LABELS);
    const codes = ["", "X", "Error", "Client.Weird", "A.B.C.NotFound", "42", "TooManyRequestsException", "x".repeat(500)];
    for (const code of codes) {
      for (const kind of ["throttled", "retryable", "fatal"] as const) {
        for (const httpStatus of [undefined, 200, 400, 403, 404, 429, 500, 503]) {
          const label = errorLabel(httpStatus === undefined ? { kind, code } : { kind, code, httpStatus });
          expect(labels.has(label)).toBe(true);
        }
      }
    }
    expect(ERROR_LABELS.length).toBeLessThanOrEqual(16);
  });

  it("uses the HTTP status when the code says nothing", () => {
    expect(errorLabel({ kind: "fatal", code: "Mystery", httpStatus: 403 })).toBe("access_denied");
    expect(errorLabel({ kind: "fatal", code: "Mystery", httpStatus: 404 })).toBe("not_found");
  });
});

describe("awsRequestId", () => {
  it("reads $metadata from outputs and errors", () => {
    expect(awsRequestId({ $metadata: { requestId: "r-1" } })).toBe("r-1");
    expect(awsRequestId({ $metadata: { extendedRequestId: "ext-1" } })).toBe("ext-1");
    expect(awsRequestId(ec2Error("InternalError", 500, "r-2"))).toBe("r-2");
    expect(awsRequestId({ $metadata: {} })).toBeUndefined();
    expect(awsRequestId(new Error("no metadata"))).toBeUndefined();
    expect(awsRequestId(null)).toBeUndefined();
  });
});
