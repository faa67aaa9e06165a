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
      { onRequest: requireRole(deps.prisma, "viewer"), schema: { summary: "Whether workers are paused", response: { 200: pauseState, 401: errorBody, 403: errorBody } } },
      async () => deps.pause.isPaused(),
    );

    app.post(
      "/pause",
      {
        onRequest: requireRole(deps.prisma, "admin"),
        schema: {
          summary: "Pause or resume every worker (checked before each step)",
          body: z.object({ paused: z.boolean(), reason: freeText(3, 500) }),
          response: { 200: pauseState, 400: errorBody, 401: errorBody, 403: errorBody, 503: errorBody },
        },
      },
      async (request, reply) => {
        const actor = `token:${request.identity?.name ?? "?"}`;
        // The switch records the change and its audit event in one transaction before Redis's copy
        // changes: a change that cannot be recorded changes nothing.
        const change = request.body.paused
          ? await deps.pause.pause(actor, request.body.reason)
          : await deps.pause.resume(actor, request.body.reason);
        if (!change.propagated) {
          // Recorded, but the workers' fast copy did not follow. Readers fall back to the record
          // once the copy expires, so the change holds; a 503 tells the operator it is not yet
          // in effect everywhere and that repeating the request is safe.
          request.log.warn({ err: { message: change.propagationError } }, "kill switch recorded but Redis copy not updated");
          return reply.code(503).send({
            error: "recorded_not_propagated",
            message: `${request.body.paused ? "pause" : "resume"} recorded in Postgres, but Redis could not be updated; workers read the record within 30 seconds; repeat the request to apply it now`,
            requestId: request.id,
          });
        }
        return change.state;
      },
    );

    app.get(
      "/policy",
      { onRequest: requireRole(deps.prisma, "viewer"), schema: { summary: "The effective routing policy", response: { 200: z.unknown(), 401: errorBody, 403: errorBody } } },
      () => Promise.resolve(deps.policy),
    );
    done();
  };
}
