// Fault injection inside an SDK client: moto never throttles and never fails on its own, so a
// test that needs RequestLimitExceeded, ThrottlingException or a 5xx gets it from here. The
// middleware sits in the finalizeRequest step after the SDK's retry middleware, so each SDK
// attempt meets the next fault, exactly as a real throttled attempt would; the error is the
// service's own exception class, shaped as the SDK's deserializer would build it.
// (For faults on the wire between processes, use startAwsProxy instead.)
import { ServiceException, type ServiceExceptionOptions } from "@smithy/core/client";
import type { FinalizeRequestMiddleware, MiddlewareStack } from "@smithy/types";

export const FAULT_MIDDLEWARE_NAME = "gdr-fault-injection";

export interface FaultSpec {
  /** The API operation, `DescribeInstances` (the command's name, `DescribeInstancesCommand`, works too). */
  operation: string;
  /** How many calls (SDK attempts) fail before the operation passes through. */
  times: number;
  /** The AWS error code (default `ThrottlingException`). */
  name?: string;
  /** Default 400; EC2 sends RequestLimitExceeded with 503. */
  httpStatus?: number;
  message?: string;
  /** The service's exception base class (`EC2ServiceException`) so `instanceof` works as in production. */
  errorClass?: new (options: ServiceExceptionOptions) => ServiceException;
}

export interface FaultHandle {
  /** Faults injected so far for an operation. */
  injected(operation: string): number;
  /** Faults injected so far, by operation. */
  counts(): Record<string, number>;
  /** Stops injecting and removes the middleware from the client. */
  clear(): void;
}

interface WithMiddleware<Input extends object, Output extends object> {
  middlewareStack: MiddlewareStack<Input, Output>;
}

/**
 * Makes the listed operations of `client` fail the first `times` times, then pass through. One
 * plan per client: injecting again replaces the previous plan.
 */
export function injectFaults<Input extends object, Output extends object>(
  client: WithMiddleware<Input, Output>,
  plan: readonly FaultSpec[],
): FaultHandle {
  const specs = new Map(plan.map((spec) => [operationName(spec.operation), spec]));
  const injected = new Map<string, number>();

  const middleware: FinalizeRequestMiddleware<Input, Output> = (next, context) => async (args) => {
    const operation = operationName(context.commandName ?? "");
    const spec = specs.get(operation);
    const done = injected.get(operation) ?? 0;
    if (!spec || done >= spec.times) return next(args);
    injected.set(operation, done + 1);
    throw serviceError(spec, `gdr-fault-${operation}-${done + 1}`);
  };

  client.middlewareStack.add(middleware, {
    step: "finalizeRequest",
    // Low: after retryMiddleware (high) and signing, so it runs once per attempt.
    priority: "low",
    name: FAULT_MIDDLEWARE_NAME,
    override: true,
  });

  return {
    injected: (operation) => injected.get(operationName(operation)) ?? 0,
    counts: () => Object.fromEntries(injected),
    clear() {
      specs.clear();
      client.middlewareStack.remove(FAULT_MIDDLEWARE_NAME);
    },
  };
}

function serviceError(spec: FaultSpec, requestId: string): ServiceException {
  const httpStatus = spec.httpStatus ?? 400;
  const ErrorClass = spec.errorClass ?? ServiceException;
  const name = spec.name ?? "ThrottlingException";
  return new ErrorClass({
    name,
    // The SDK derives $fault from the status for codes the service does not model.
    $fault: httpStatus >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: httpStatus, requestId, attempts: 1, totalRetryDelay: 0 },
    message: spec.message ?? `${name} (injected by the test)`,
  });
}

function operationName(name: string): string {
  return name.endsWith("Command") ? name.slice(0, -"Command".length) : name;
}
