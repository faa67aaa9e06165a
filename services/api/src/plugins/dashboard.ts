import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import { roleAtLeast, verifyToken } from "@gdr/core/auth/tokens";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ApiDeps } from "../deps.js";

export const DASHBOARD_PATH = "/admin/queues";

/**
 * The admin token from either header a dashboard request can carry:
 * - `Authorization: Basic base64(<any user>:<admin token>)`, which the browser sends by itself on
 *   the entry page, every asset and every fetch of bull-board's UI once the person typed it into
 *   the browser's prompt (bull-board's fetches cannot add a bearer header);
 * - `Authorization: Bearer <admin token>`, for scripts and curl.
 */
function tokenOf(header: string | undefined): string | null {
  if (!header) return null;
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer?.[1]) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!basic?.[1]) return null;
  const decoded = Buffer.from(basic[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : null;
}

/**
 * Decision: HTTP Basic auth with an admin API token as the password (user name ignored), checked
 * against the hashed tokens on EVERY request under the prefix — entry page, static assets and
 * bull-board's JSON API alike. It needs no session secret, no cookie and no login page, and the
 * token never appears in a URL (so never in an access log; Fastify logs no request headers).
 * Serve the API over TLS only (Basic sends the token on each request). Basic credentials are sent
 * by the browser automatically, so cross-site requests are refused (Fetch Metadata) against CSRF,
 * and the queues are mounted read-only: a failed remediation is retried through
 * POST /v1/remediations/:id/retry, which keeps Postgres (the record) and BullMQ in step.
 */
function adminGate(deps: Pick<ApiDeps, "prisma">) {
  const deny = (request: FastifyRequest, reply: FastifyReply, status: 401 | 403, code: string, message: string) => {
    if (status === 401) reply.header("www-authenticate", 'Basic realm="guardduty-responder queues", charset="UTF-8"');
    return reply.code(status).send({ error: code, message, requestId: request.id });
  };
  // Answering early from an async hook: send, then return the reply (Fastify stops the chain).
  return async function gate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const site = request.headers["sec-fetch-site"];
    if (site === "cross-site" || site === "same-site") return deny(request, reply, 403, "forbidden", "cross-site requests to the queue dashboard are refused");
    const token = tokenOf(request.headers.authorization);
    const identity = token ? await verifyToken(deps.prisma, token) : null;
    if (!identity) return deny(request, reply, 401, "unauthorized", "an admin API token is required (as the Basic auth password)");
    if (!roleAtLeast(identity.role, "admin")) return deny(request, reply, 403, "forbidden", `the queue dashboard needs the admin role; the token has ${identity.role}`);
    request.identity = identity;
    return undefined;
  };
}

/** bull-board at /admin/queues, every playbook queue, read-only, behind the admin gate. */
export async function registerDashboard(app: FastifyInstance, deps: Pick<ApiDeps, "prisma" | "queues">): Promise<void> {
  // An encapsulated scope: the gate and bull-board's own error handler apply to its routes only.
  await app.register(async (scope) => {
    // onRequest, and answering instead of throwing: bull-board sets its own error handler in this
    // scope, which would turn a thrown 401 into its own 500 body.
    scope.addHook("onRequest", adminGate(deps));
    // Nothing behind the gate may be kept by a shared cache and served to someone without a token
    // (@fastify/static would answer assets `public`).
    scope.addHook("onSend", async (_request, reply, payload) => {
      reply.header("cache-control", "no-store");
      return payload;
    });
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(DASHBOARD_PATH);
    createBullBoard({
      queues: [...deps.queues.values()].map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
      serverAdapter,
      options: { uiConfig: { boardTitle: "GuardDuty Responder" } },
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
  });
}
