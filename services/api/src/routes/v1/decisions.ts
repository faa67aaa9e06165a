import { approveRemediation, rejectRemediation, requestRelease, type Decision } from "@gdr/core/approvals/decide";
import type { FastifyPluginCallbackZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { requireRole } from "../../plugins/auth.js";
import { errorBody, HttpError } from "../../plugins/errors.js";
import { refuseOutsideAllowList } from "./account-guard.js";
import { decisionBody, freeText, uuidParam } from "./schemas.js";

const decisionResponse = z.object({ remediationId: z.string(), step: z.string(), jobId: z.string().optional() });
// 403 is also `account_not_allowed`: the remediation's account left the policy's allow list.
const responses = { 200: decisionResponse, 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody };

/** Maps a refused decision to its HTTP answer: 404 for a missing remediation, 409 for every conflict. */
function answer(decision: Decision): z.infer<typeof decisionResponse> {
  if (decision.ok) return { remediationId: decision.remediationId, step: decision.step, ...(decision.jobId ? { jobId: decision.jobId } : {}) };
  throw new HttpError(decision.error === "not_found" ? 404 : 409, decision.error, decision.message);
}

export interface DecisionOptions {
  /**
   * Four-eyes (409 same_actor): whoever requested a release may not approve it, and whoever
   * submitted the finding or requested a retry may not approve a destructive plan.
   */
  fourEyes: boolean;
}

/** Approve, reject and release: the approval gate's decisions, each an audit event with its actor. */
export function decisionRoutes(deps: ApiDeps, options: DecisionOptions): FastifyPluginCallbackZod {
  return (app, _options, done) => {
    const approver = requireRole(deps.prisma, "approver");
    const actorOf = (identity: { name: string } | undefined): string => `token:${identity?.name ?? "?"}`;

    app.post(
      "/remediations/:id/approve",
      { onRequest: approver, schema: { summary: "Approve the frozen plan (its hash must match)", params: uuidParam, body: decisionBody, response: responses } },
      async (request) => {
        const actor = actorOf(request.identity);
        await refuseOutsideAllowList(deps, request.params.id, "approve", actor);
        const report = { logger: request.log, notifier: deps.notifier, publicUrl: deps.publicUrl };
        return answer(await approveRemediation(deps.prisma, deps.queues, { remediationId: request.params.id, actor, ...request.body, fourEyes: options.fourEyes }, report));
      },
    );

    app.post(
      "/remediations/:id/reject",
      { onRequest: approver, schema: { summary: "Reject the frozen plan; the remediation ends rejected", params: uuidParam, body: decisionBody, response: responses } },
      async (request) => answer(await rejectRemediation(deps.prisma, { remediationId: request.params.id, actor: actorOf(request.identity), ...request.body })),
    );

    app.post(
      "/remediations/:id/release",
      {
        onRequest: approver,
        schema: {
          summary: "Ask for containment to be undone (a succeeded remediation, or one failed after isolating); the release plan then waits for an approval",
          params: uuidParam,
          body: z.object({ reason: freeText(3, 2_000) }),
          response: responses,
        },
      },
      async (request) => {
        const actor = actorOf(request.identity);
        await refuseOutsideAllowList(deps, request.params.id, "release", actor);
        // A job that cannot be queued is logged and people are told, not only answered 409.
        return answer(await requestRelease(deps.prisma, deps.queues, request.params.id, actor, { logger: request.log, notifier: deps.notifier, publicUrl: deps.publicUrl }));
      },
    );
    done();
  };
}
