import { randomUUID } from "node:crypto";
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import { assertLocalEndpoint } from "./aws-env.js";

/** One request as the proxy saw it. */
export interface AwsRequest {
  /** From `x-amz-target` (JSON protocols, e.g. SQS) or the `Action` field (query protocols). */
  operation: string;
  /** The signing service from the SigV4 Authorization header (sqs, ec2, iam…), if signed. */
  service: string | undefined;
  method: string;
  path: string;
  body: Buffer;
}

/** Await it for the first matching request; matching requests stay held until release(). */
export interface HoldHandle extends PromiseLike<AwsRequest> {
  arrived: Promise<AwsRequest>;
  /** How many requests are being held now. */
  held(): number;
  /** Stops holding; forwards what was held, except requests whose client has gone meanwhile. */
  release(): void;
}

export interface FailOptions {
  status: number;
  /** The AWS error code the SDK will see as `error.name`, e.g. ThrottlingException. */
  code: string;
  message?: string;
  /** Fail only this many matching requests, then forward again; all of them if omitted. */
  times?: number;
}

export interface AwsProxy {
  /** Give this to the code under test instead of moto's endpoint. */
  endpoint: string;
  hold(operation: string): HoldHandle;
  fail(operation: string, options: FailOptions): void;
  /** Removes every fail rule and releases every hold. */
  clear(): void;
  /** Requests seen per operation (held and failed ones included). */
  count(operation: string): number;
  counts(): Record<string, number>;
  close(): Promise<void>;
}

interface Held { req: IncomingMessage; res: ServerResponse; body: Buffer }
interface HoldRule { operation: string; waiting: Held[]; arrived: (r: AwsRequest) => void }
interface FailRule extends FailOptions { operation: string }

/**
 * An HTTP proxy in front of moto that knows which AWS operation each request is, so a test can
 * stall one (to kill a process at an exact point, e.g. between commit and DeleteMessageBatch) or
 * make it fail the way AWS does (throttling, 5xx), and count what the code under test called.
 */
export async function startAwsProxy(targetEndpoint: string): Promise<AwsProxy> {
  assertLocalEndpoint(targetEndpoint);
  const target = new URL(targetEndpoint);
  const holds: HoldRule[] = [];
  const fails: FailRule[] = [];
  const seen = new Map<string, number>();

  const forward = ({ req, res, body }: Held): void => {
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (err) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`aws proxy: ${err.message}`);
    });
    upstream.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const held: Held = { req, res, body: Buffer.concat(chunks) };
      const info = describe(req, held.body);
      seen.set(info.operation, (seen.get(info.operation) ?? 0) + 1);

      const failIndex = fails.findIndex((f) => f.operation === info.operation);
      const failRule = fails[failIndex];
      if (failRule) {
        if (failRule.times !== undefined && --failRule.times <= 0) fails.splice(failIndex, 1);
        answerError(res, info, failRule);
        return;
      }
      const hold = holds.find((h) => h.operation === info.operation);
      if (hold) {
        hold.waiting.push(held);
        hold.arrived(info);
        return;
      }
      forward(held);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => { resolve(); });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("aws proxy has no port");

  const release = (rule: HoldRule): void => {
    const at = holds.indexOf(rule);
    if (at >= 0) holds.splice(at, 1);
    for (const h of rule.waiting.splice(0)) {
      if (!h.req.socket.destroyed) forward(h);
    }
  };

  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    hold(operation) {
      let arrived!: (r: AwsRequest) => void;
      const promise = new Promise<AwsRequest>((resolve) => { arrived = resolve; });
      const rule: HoldRule = { operation, waiting: [], arrived };
      holds.push(rule);
      return {
        arrived: promise,
        then: (onFulfilled, onRejected) => promise.then(onFulfilled, onRejected),
        held: () => rule.waiting.length,
        release: () => { release(rule); },
      };
    },
    fail(operation, options) {
      fails.push({ ...options, operation });
    },
    clear() {
      fails.splice(0);
      for (const rule of [...holds]) release(rule);
    },
    count: (operation) => seen.get(operation) ?? 0,
    counts: () => Object.fromEntries(seen),
    async close() {
      for (const rule of holds.splice(0)) for (const h of rule.waiting) h.req.socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}

function describe(req: IncomingMessage, body: Buffer): AwsRequest {
  const target = req.headers["x-amz-target"];
  let operation: string | null | undefined = typeof target === "string" ? target.split(".").pop() : undefined;
  if (!operation && String(req.headers["content-type"]).includes("x-www-form-urlencoded")) {
    operation = new URLSearchParams(body.toString("utf8")).get("Action");
  }
  operation ||= new URL(req.url ?? "/", "http://x").searchParams.get("Action") ?? "unknown";
  const credential = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? "");
  return { operation, service: credential?.[1], method: req.method ?? "GET", path: req.url ?? "/", body };
}

/** Answers in the error shape of the request's protocol, so the SDK parses code and status. */
function answerError(res: ServerResponse, info: AwsRequest, rule: FailRule): void {
  const requestId = randomUUID();
  const message = rule.message ?? `injected by the test's aws proxy`;
  const headers = { "x-amzn-requestid": requestId, "x-amz-request-id": requestId };
  const isQuery = info.body.length > 0 && new URLSearchParams(info.body.toString("utf8")).has("Action");
  if (info.service === "ec2") {
    res.writeHead(rule.status, { ...headers, "content-type": "text/xml" });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${xml(rule.code)}</Code>` +
        `<Message>${xml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
    );
  } else if (isQuery) {
    res.writeHead(rule.status, { ...headers, "content-type": "text/xml" });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type>` +
        `<Code>${xml(rule.code)}</Code><Message>${xml(message)}</Message></Error>` +
        `<RequestId>${requestId}</RequestId></ErrorResponse>`,
    );
  } else {
    res.writeHead(rule.status, {
      ...headers,
      "content-type": "application/x-amz-json-1.0",
      "x-amzn-errortype": rule.code,
    });
    res.end(JSON.stringify({ __type: rule.code, message }));
  }
}

function xml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
