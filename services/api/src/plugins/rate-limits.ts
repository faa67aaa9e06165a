import rateLimit from "@fastify/rate-limit";
import type { PrismaClient } from "@gdr/core/db/client";
import type { FastifyInstance } from "fastify";
import { HttpError } from "./errors.js";
import { resolveIdentity } from "./identity.js";

export interface RateLimits {
  /** Requests per minute per client address, for requests without a valid token. */
  anonymousPerMinute: number;
  /** Requests per minute per verified token. */
  tokenPerMinute: number;
}

/**
 * Two buckets, so that an anonymous flood can never lock out the people who must act during an
 * incident:
 * - a request whose token verifies counts against that token (its id: a made-up token never
 *   verifies, so it never gets an allowance of its own);
 * - every other request (no token, a malformed, unknown or revoked one) counts against its client
 *   address (behind a proxy, set API_TRUST_PROXY so the address is the client's).
 * Liveness probes (routes with `config.probe`) are in neither: they answer a constant, and never
 * look a token up (they must answer while Postgres is down).
 *
 * The token is verified before the limit is counted (one indexed lookup by hash, once per request:
 * resolveIdentity is shared with the role checks). So a flood of well-formed made-up tokens costs a
 * lookup each even past its 429; that is the price of letting an approver behind the same address
 * through, and it is the lookup the 401 path costs anyway.
 *
 * A global onRequest hook, registered before any route: it runs before every route's own hooks
 * (the role check), body parsing and validation.
 */
export async function registerRateLimits(app: FastifyInstance, prisma: PrismaClient, limits: RateLimits): Promise<void> {
  // global: false: no per-route hooks; the one hook below decides the bucket itself.
  await app.register(rateLimit, { global: false });
  const limiter = app.rateLimit({
    timeWindow: "1 minute",
    keyGenerator: async (request) => {
      const resolved = await resolveIdentity(prisma, request);
      return resolved ? `token:${resolved.identity.id}` : `address:${request.ip}`;
    },
    max: (_request, key) => (key.startsWith("token:") ? limits.tokenPerMinute : limits.anonymousPerMinute),
    allowList: (request) => request.routeOptions.config.probe === true,
    errorResponseBuilder: (_request, context) => new HttpError(context.statusCode, "rate_limited", `rate limit exceeded; retry in ${context.after}`),
  });
  // Answer rather than throw: plugins such as bull-board set their own error handler in their
  // scope, which would turn a thrown 429 into their own 500 body.
  app.addHook("onRequest", async function limit(request, reply) {
    // Probes skip the limiter before its keyGenerator runs: the allowList is asked only after the
    // key, and the key of a request with a token is a Postgres lookup, so /healthz with an
    // Authorization header answered 503 while Postgres was down.
    if (request.routeOptions.config.probe === true) return undefined;
    try {
      await limiter.call(this, request, reply);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      return reply.code(err.statusCode).send({ error: err.code, message: err.message, requestId: request.id });
    }
    return undefined;
  });
}
