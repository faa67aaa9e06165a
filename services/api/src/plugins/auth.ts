import type { FastifyReply, FastifyRequest } from "fastify";
import { roleAtLeast, verifyToken, type Role, type TokenIdentity } from "@gdr/core/auth/tokens";
import type { PrismaClient } from "@gdr/core/db/client";
import { HttpError } from "./errors.js";

declare module "fastify" {
  interface FastifyRequest {
    identity?: TokenIdentity;
  }
}

/**
 * A preHandler that lets a request through only with a bearer token of at least `role`.
 * 401 without a valid token (the same answer for a missing, malformed, unknown or revoked one),
 * 403 with a token whose role is too low.
 */
export function requireRole(prisma: PrismaClient, role: Role) {
  return async function authorize(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const identity = match?.[1] ? await verifyToken(prisma, match[1]) : null;
    if (!identity) throw new HttpError(401, "unauthorized", "a valid bearer token is required");
    if (!roleAtLeast(identity.role, role)) throw new HttpError(403, "forbidden", `this needs the ${role} role; the token has ${identity.role}`);
    request.identity = identity;
  };
}
