import { randomUUID } from "node:crypto";
import { DEFAULT_PARSE_OPTIONS, parseMessageBody } from "@gdr/core/findings/index";
import { route } from "@gdr/core/policy/index";
import { dispatchForRemediations, reportSetAside, type SetAsideRow } from "@gdr/core/queues/outbox";
import { sendNotices } from "@gdr/core/intake/notices";
import { recordBatch } from "@gdr/core/intake/record";
import type { FastifyPluginCallbackZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { requireRole } from "../../plugins/auth.js";
import { errorBody } from "../../plugins/errors.js";

const receipt = z.object({
  messageId: z.string(),
  outcome: z.enum(["accepted", "duplicate", "ignored", "rejected"]),
  reason: z.string(),
  detail: z.string().nullable(),
  findingId: z.string().nullable(),
  remediationsCreated: z.number().int(),
  /**
   * Remediations whose job could not be queued (the outbox set the row aside and failed the
   * remediation with the reason): recorded, but nothing will run for them.
   */
  setAside: z.array(z.object({ remediationId: z.string(), reason: z.string() })),
});

const STATUS = { accepted: 201, duplicate: 200, ignored: 200, rejected: 422 } as const;

/**
 * Submit or replay a finding: the body is a raw SQS message body (an EventBridge event, or one
 * wrapped by SNS) and goes through exactly the ingest path — the same parser and limits, the same
 * policy, the same recordBatch transaction (receipt, finding, remediation, outbox, audit) — under a
 * synthetic message id `api-<uuid>`, with the submitting token (`token:<name>`) on the receipt and
 * in a `finding.submitted` audit event, then its outbox rows are enqueued. Input from the API is
 * validated like input from SQS: the body reaches the parser as the string received, never as
 * JSON Fastify already parsed. A rejected body leaves only its receipt (as ingest does).
 */
export function replayRoutes(deps: ApiDeps): FastifyPluginCallbackZod {
  return (app, _options, done) => {
    // Scoped to this plugin: the body stays the raw string (the app's body limit still applies).
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(["application/json", "text/plain"], { parseAs: "string" }, (_request, body, parsed) => {
      parsed(null, body);
    });

    app.post(
      "/findings",
      {
        onRequest: requireRole(deps.prisma, "admin"),
        schema: {
          summary: "Submit or replay a finding (a raw SQS message body), recorded exactly as ingest records it",
          body: z.string(),
          response: { 200: receipt, 201: receipt, 400: errorBody, 401: errorBody, 403: errorBody, 413: errorBody, 415: errorBody, 422: receipt },
        },
      },
      async (request, reply) => {
        const submittedBy = `token:${request.identity?.name ?? "?"}`;
        const body = request.body;
        const message = { messageId: `api-${randomUUID()}`, receiptHandle: "", body, receiveCount: 1 };
        const parsed = parseMessageBody(body, DEFAULT_PARSE_OPTIONS);
        const [outcome] = await deps.prisma.$transaction(
          // submittedBy: the receipt and a `finding.submitted` audit event name the token, so the
          // finding is never "done by ingest" and four-eyes can keep its submitter from approving
          // a destructive plan on it.
          (tx) => recordBatch(tx, [{ message, parsed }], { route: (finding) => route(finding, deps.policy), submittedBy }),
          { timeout: 30_000, maxWait: 10_000 },
        );
        if (!outcome) throw new Error("recordBatch returned no outcome for one message");
        let setAside: SetAsideRow[] = [];
        if (outcome.findingId) {
          const remediations = await deps.prisma.remediation.findMany({ where: { findingId: outcome.findingId }, select: { id: true } });
          setAside = (await dispatchForRemediations(deps.prisma, deps.queues, remediations.map((r) => r.id))).setAside;
          await reportSetAside(deps.prisma, { logger: request.log, notifier: deps.notifier, publicUrl: deps.publicUrl }, setAside);
        }
        // After the commit, as ingest does: an exempt outcome of a medium-or-higher finding or an
        // escalated version conflict is news whichever way the finding arrived.
        if (deps.notifier) sendNotices(deps.notifier, deps.publicUrl ?? "", [outcome]);
        const stored = await deps.prisma.ingestReceipt.findUnique({ where: { sqsMessageId: message.messageId }, select: { detail: true } });
        request.log.info({ messageId: message.messageId, outcome: outcome.outcome, reason: outcome.reason, findingId: outcome.findingId, submittedBy }, "finding submitted through the API");
        return reply.code(STATUS[outcome.outcome]).send({
          messageId: outcome.messageId,
          outcome: outcome.outcome,
          reason: outcome.reason,
          detail: stored?.detail ?? null,
          findingId: outcome.findingId,
          remediationsCreated: outcome.remediationsCreated,
          setAside: setAside.map((s) => ({ remediationId: s.remediationId, reason: s.reason })),
        });
      },
    );
    done();
  };
}
