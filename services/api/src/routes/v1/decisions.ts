import { approveRemediation, rejectRemediation, requestRelease, type Decision } from "@gdr/core/approvals/decide";
import { releaseRequester } from "@gdr/core/approvals/four-eyes";
import type { FastifyPluginCallbackZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { requireRole } from "../../plugins/auth.js";
import { errorBody, HttpError } from "../../plugins/errors.js";
import { decisionBody, freeText, uuidParam } from "./schemas.js";

const decisionResponse = z.object({ remediationId: z.string(), step: z.string(), jobId: z.string().optional() });
const responses = { 200: decisionResponse, 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody };

/** Maps a refused decision to its HTTP answer: 404 for a missing remediation, 409 for every conflict. */
function answer(decision: Decision): z.infer<typeof decisionResponse> {
  if (decision.ok) return { remediationId: decision.remediationId, step: decision.step, ...(decision.jobId ? { jobId: decision.jobId } : {}) };
  throw new HttpError(decision.error === "not_found" ? 404 : 409, decision.error, decision.message);
}

export interface DecisionOptions {
  /** Four-eyes: whoever requested a release may not approve it (409 same_actor). */
  fourEyes: boolean;
}

/** Approve, reject and release: the approval gate's decisions, each an audit event with its actor. */
export function decisionRoutes(deps: ApiDeps, options: DecisionOptions): FastifyPluginCallbackZod {
  return (app, _options, done) => {
    const approver = requireRole(deps.prisma, "approver");
    const actorOf = (identity: { name: string } | undefined): string => `token:${identity?.name ?? "?"}`;

    app.post(
      "/remediations/:id/approve",
      { preHandler: approver, schema: { summary: "Approve the frozen plan (its hash must match)", params: uuidParam, body: decisionBody, response: responses } },
      async (request) => {
        const requestedBy = options.fourEyes ? await releaseRequester(deps.prisma, request.params.id) : undefined;
        const input = { remediationId: request.params.id, actor: actorOf(request.identity), ...request.body };
        return answer(await approveRemediation(deps.prisma, deps.queues, requestedBy === undefined ? input : { ...input, requestedBy }));
      },
    );

    app.post(
      "/remediations/:id/reject",
      { preHandler: approver, schema: { summary: "Reject the frozen plan; the remediation ends rejected", params: uuidParam, body: decisionBody, response: responses } },
      async (request) => answer(await rejectRemediation(deps.prisma, { remediationId: request.params.id, actor: actorOf(request.identity), ...request.body })),
    );

    app.post(
      "/remediations/:id/release",
      {
        preHandler: approver,
        schema: {
          summary: "Ask for containment to be undone (a succeeded remediation, or one failed after isolating); the release plan then waits for an approval",
          params: uuidParam,
          body: z.object({ reason: freeText(3, 2_000) }),
          response: responses,
        },
      },
      async (request) => answer(await requestRelease(deps.prisma, deps.queues, request.params.id, actorOf(request.identity))),
    );
    done();
  };
}
