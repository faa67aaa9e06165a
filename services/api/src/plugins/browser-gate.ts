import { roleAtLeast, type Role } from "@gdr/core/auth/tokens";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ApiDeps } from "../deps.js";
import { resolveIdentity } from "./identity.js";

export interface BrowserGateOptions {
  role: Role;
  /** The Basic realm the browser's prompt shows. */
  realm: string;
  /** What the gate guards, for the error messages ("the queue dashboard"). */
  what: string;
}

/**
 * An onRequest hook for pages a person opens in a browser (the queue dashboard, the API docs):
 * HTTP Basic auth with an API token as the password (user name ignored), or a bearer token,
 * checked against the hashed tokens on EVERY request under the page's prefix. No session secret,
 * no cookie, no login page, and the token never appears in a URL (so never in an access log).
 * Serve the API over TLS only: Basic sends the token on each request. The browser attaches Basic
 * credentials by itself, so cross-site requests are refused (Fetch Metadata) against CSRF.
 *
 * It answers instead of throwing: plugins such as bull-board set their own error handler in their
 * scope, which would turn a thrown 401 into their own 500 body.
 */
export function browserGate(deps: Pick<ApiDeps, "prisma">, options: BrowserGateOptions) {
  const deny = (request: FastifyRequest, reply: FastifyReply, status: 401 | 403, code: string, message: string) => {
    if (status === 401) reply.header("www-authenticate", `Basic realm="${options.realm}", charset="UTF-8"`);
    return reply.code(status).send({ error: code, message, requestId: request.id });
  };
  // Answering early from an async hook: send, then return the reply (Fastify stops the chain).
  return async function gate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const site = request.headers["sec-fetch-site"];
    if (site === "cross-site" || site === "same-site") return deny(request, reply, 403, "forbidden", `cross-site requests to ${options.what} are refused`);
    const identity = (await resolveIdentity(deps.prisma, request))?.identity;
    if (!identity) return deny(request, reply, 401, "unauthorized", `an API token of the ${options.role} role or above is required (bearer, or as the Basic auth password)`);
    if (!roleAtLeast(identity.role, options.role)) {
      return deny(request, reply, 403, "forbidden", `${options.what} needs the ${options.role} role; the token has ${identity.role}`);
    }
    return undefined;
  };
}
