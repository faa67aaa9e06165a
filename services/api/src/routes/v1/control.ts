import type { FastifyPluginCallbackZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { requireRole } from "../../plugins/auth.js";
import { errorBody } from "../../plugins/errors.js";
import { freeText } from "./schemas.js";

const pauseState = z.object({ paused: z.boolean(), by: z.string().optional(), reason: z.string().optional(), since: z.string().optional() });

/** The kill switch and the effective policy. */
export function controlRoutes(deps: ApiDeps): FastifyPluginCallbackZod {
  return (app, _options, done) => {
    app.get(
      "/pause",
      { preHandler: requireRole(deps.prisma, "viewer"), schema: { summary: "Whether workers are paused", response: { 200: pauseState, 401: errorBody, 403: errorBody } } },
      async () => deps.pause.isPaused(),
    );

    app.post(
      "/pause",
      {
        preHandler: requireRole(deps.prisma, "admin"),
        schema: {
          summary: "Pause or resume every worker (checked before each step)",
          body: z.object({ paused: z.boolean(), reason: freeText(3, 500) }),
          response: { 200: pauseState, 400: errorBody, 401: errorBody, 403: errorBody },
        },
      },
      async (request) => {
        const actor = `token:${request.identity?.name ?? "?"}`;
        if (request.body.paused) await deps.pause.pause(actor, request.body.reason);
        else await deps.pause.resume(actor);
        await deps.prisma.auditEvent.create({
          data: { actor, action: request.body.paused ? "workers.paused" : "workers.resumed", detail: { reason: request.body.reason } },
        });
        return deps.pause.isPaused();
      },
    );

    app.get(
      "/policy",
      { preHandler: requireRole(deps.prisma, "viewer"), schema: { summary: "The effective routing policy", response: { 200: z.unknown(), 401: errorBody, 403: errorBody } } },
      () => Promise.resolve(deps.policy),
    );
    done();
  };
}
