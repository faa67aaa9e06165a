import { verifyToken, type TokenIdentity } from "@gdr/core/auth/tokens";
import type { PrismaClient } from "@gdr/core/db/client";
import type { FastifyRequest } from "fastify";

declare module "fastify" {
  interface FastifyRequest {
    /** The verified token behind the request, once resolveIdentity ran and found one. */
    identity?: TokenIdentity;
  }
  interface FastifyContextConfig {
    /** A liveness probe: no token, no rate limit (it answers a constant). */
    probe?: boolean;
  }
}

/** How the token came: a bearer header (scripts, the approval page) or HTTP Basic (browser pages). */
export type Scheme = "bearer" | "basic";

export interface Presented {
  token: string;
  scheme: Scheme;
}

/**
 * The token from either header a request can carry:
 * - `Authorization: Bearer <token>`, for scripts, curl and the approval page;
 * - `Authorization: Basic base64(<any user>:<token>)`, which a browser sends by itself on every
 *   request to a page once the person typed the token into its prompt (bull-board and Swagger UI
 *   cannot add a bearer header). Only the browser-facing pages accept it (see browser-gate.ts).
 */
export function presentedToken(header: string | undefined): Presented | null {
  if (!header) return null;
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer?.[1]) return { token: bearer[1], scheme: "bearer" };
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!basic?.[1]) return null;
  const decoded = Buffer.from(basic[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon >= 0 && colon < decoded.length - 1 ? { token: decoded.slice(colon + 1), scheme: "basic" } : null;
}

export interface Resolved {
  identity: TokenIdentity;
  scheme: Scheme;
}

// One verification per request, whoever asks first (the rate limiter, a route's role check, a
// page's gate): a request is never looked up twice, and every check sees the same answer.
const resolutions = new WeakMap<FastifyRequest, Promise<Resolved | null>>();

/**
 * The verified identity of the request's token, or null (no token, a malformed, unknown or revoked
 * one). Sets request.identity when found.
 */
export function resolveIdentity(prisma: PrismaClient, request: FastifyRequest): Promise<Resolved | null> {
  let resolution = resolutions.get(request);
  if (!resolution) {
    resolution = (async () => {
      const presented = presentedToken(request.headers.authorization);
      const identity = presented ? await verifyToken(prisma, presented.token) : null;
      if (!identity || !presented) return null;
      request.identity = identity;
      return { identity, scheme: presented.scheme };
    })();
    resolutions.set(request, resolution);
  }
  return resolution;
}
