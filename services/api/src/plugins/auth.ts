import type { FastifyReply, FastifyRequest } from "fastify";
import { roleAtLeast, type Role } from "@gdr/core/auth/tokens";
import type { PrismaClient } from "@gdr/core/db/client";
import { HttpError } from "./errors.js";
import { resolveIdentity } from "./identity.js";

/**
 * A hook that lets a request through only with a bearer token of at least `role`. Register it as
 * the route's `onRequest`, so that a caller without a token gets its 401 before the body is parsed
 * or validated: anonymous callers learn nothing of a route's schema.
 * 401 without a valid bearer token (the same answer for a missing, malformed, unknown or revoked
 * one, and for a token sent as HTTP Basic: a browser attaches Basic credentials to any request to
 * this origin by itself, so they must never authorize an API call), 403 with a role too low.
 */
export function requireRole(prisma: PrismaClient, role: Role) {
  return async function authorize(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const resolved = await resolveIdentity(prisma, request);
    if (resolved?.scheme !== "bearer") throw new HttpError(401, "unauthorized", "a valid bearer token is required");
    const { identity } = resolved;
    if (!roleAtLeast(identity.role, role)) throw new HttpError(403, "forbidden", `this needs the ${role} role; the token has ${identity.role}`);
  };
}
