import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { FastifyRequest } from "fastify";

/**
 * A caller's X-Request-Id is honoured for tracing when it is a plain token of at most 128
 * characters; anything else (too long, spaces, quotes, control characters that would forge log
 * lines or error bodies) is replaced by a fresh uuid, never echoed.
 */
export const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function requestIdOf(raw: IncomingMessage): string {
  const header = raw.headers["x-request-id"];
  return typeof header === "string" && REQUEST_ID.test(header) ? header : randomUUID();
}

/** Query parameters whose value is a secret by its name (OAuth-style tokens, signed URLs, keys). */
const SECRET_PARAM = /token|secret|passw|pwd|key|auth|credential|session|signature|sig$/i;
/** An API token of this service, wherever it appears (a path segment, a parameter of any name). */
const API_TOKEN = /gdr_[A-Za-z0-9_-]+/g;

/**
 * A request URL fit for a log line. Bearer tokens belong in the Authorization header, but a client
 * that puts one in the URL (`?token=…`, `?access_token=…`) must not have it written to every log
 * sink: a secret-named parameter's value and anything shaped like an API token are replaced.
 */
export function safeUrl(url: string): string {
  const q = url.indexOf("?");
  const path = (q < 0 ? url : url.slice(0, q)).replace(API_TOKEN, "[redacted]");
  if (q < 0) return path;
  const params = new URLSearchParams(url.slice(q + 1));
  const safe = new URLSearchParams();
  for (const [name, value] of params) {
    safe.append(name.replace(API_TOKEN, "[redacted]"), SECRET_PARAM.test(name) ? "[redacted]" : value.replace(API_TOKEN, "[redacted]"));
  }
  // URLSearchParams encodes "[redacted]" as %5Bredacted%5D; keep the marker readable.
  return `${path}?${safe.toString().replaceAll("%5Bredacted%5D", "[redacted]")}`;
}

/**
 * The `req` serializer of the API's log lines: Fastify's own fields, with the URL made safe. The
 * Authorization header is never among them (and pino's redaction blanks it where it could be).
 */
export function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: safeUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket.remotePort,
  };
}
