import type { Prisma } from "@gdr/core/db/client";
import type { FastifyPluginCallbackZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { requireRole } from "../../plugins/auth.js";
import { errorBody, HttpError } from "../../plugins/errors.js";
import {
  approval,
  auditEvent,
  decodeCursor,
  encodeCursor,
  ACCOUNT_ID,
  FINDING_ID,
  iso,
  isoOrNull,
  pageQuery,
  queryText,
  remediationStatus,
  remediationSummary,
  step,
  storedPlan,
  UUID,
  uuidParam,
} from "./schemas.js";

type RemediationRow = Prisma.RemediationGetPayload<object>;
type AuditRow = Prisma.AuditEventGetPayload<object>;

/**
 * The stored plan as its schema reads it. One that does not read is not passed on as if it did
 * (the answer's schema would refuse it, a 500 for every look at the remediation): it is null, with
 * the reason, and the plan hash still says what an approval would name.
 */
function readPlan(stored: Prisma.JsonValue): { plan: z.infer<typeof storedPlan>; problem: string | null } {
  if (stored === null) return { plan: null, problem: null };
  const parsed = storedPlan.safeParse(stored);
  if (parsed.success) return { plan: parsed.data, problem: null };
  return { plan: null, problem: `the stored plan is neither a frozen plan nor a dry-run record: ${z.prettifyError(parsed.error).slice(0, 1_000)}` };
}

/**
 * The note of each step's latest outcome event (`step.<status>`, detail.note), keyed by step name
 * and status: e.g. why a step is `unavailable`. The worker writes the note with the outcome.
 */
function stepNotes(events: readonly AuditRow[]): Map<string, string> {
  const notes = new Map<string, string>();
  for (const e of events) {
    if (!e.action.startsWith("step.")) continue;
    const detail = e.detail;
    if (typeof detail !== "object" || detail === null || Array.isArray(detail)) continue;
    const { step: name, note } = detail;
    if (typeof name === "string" && typeof note === "string") notes.set(`${name}\u0000${e.action.slice("step.".length)}`, note);
  }
  return notes;
}

export function toRemediationSummary(r: RemediationRow): z.infer<typeof remediationSummary> {
  return {
    id: r.id,
    findingId: r.findingId,
    playbook: r.playbook,
    resourceKey: r.resourceKey,
    accountId: r.accountId,
    region: r.region,
    mode: r.mode,
    status: r.status,
    ruleName: r.ruleName,
    parentId: r.parentId,
    planHash: r.planHash,
    error: r.error,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
    startedAt: isoOrNull(r.startedAt),
    finishedAt: isoOrNull(r.finishedAt),
  };
}

export function remediationRoutes(deps: ApiDeps): FastifyPluginCallbackZod {
  return (app, _options, done) => {
    app.get(
      "/remediations",
      {
        onRequest: requireRole(deps.prisma, "viewer"),
        schema: {
          summary: "List remediations, newest first",
          querystring: z.object({
            ...pageQuery,
            status: remediationStatus.optional(),
            playbook: queryText(32).optional(),
            accountId: z.string().regex(ACCOUNT_ID).optional(),
            findingId: z.string().regex(FINDING_ID).optional(),
          }),
          response: { 200: z.object({ items: z.array(remediationSummary), nextCursor: z.string().nullable() }), 400: errorBody, 401: errorBody, 403: errorBody },
        },
      },
      async (request) => {
        const q = request.query;
        const cursor = decodeCursor(q.cursor, UUID);
        if (q.cursor && !cursor) throw new HttpError(400, "invalid_cursor", "the cursor is not one this API gave out");
        const rows = await deps.prisma.remediation.findMany({
          where: {
            ...(q.status ? { status: q.status } : {}),
            ...(q.playbook ? { playbook: q.playbook } : {}),
            ...(q.accountId ? { accountId: q.accountId } : {}),
            ...(q.findingId ? { findingId: q.findingId } : {}),
            ...(cursor ? { OR: [{ createdAt: { lt: cursor.at } }, { createdAt: cursor.at, id: { lt: cursor.id } }] } : {}),
          },
          orderBy: [{ createdAt: "desc" }, { id: "desc" }],
          take: q.limit + 1,
        });
        const page = rows.slice(0, q.limit);
        const last = page.at(-1);
        return { items: page.map(toRemediationSummary), nextCursor: rows.length > q.limit && last ? encodeCursor(last.createdAt, last.id) : null };
      },
    );

    app.get(
      "/remediations/:id",
      {
        onRequest: requireRole(deps.prisma, "viewer"),
        schema: {
          summary: "One remediation with its steps, outputs, frozen plan, approvals and audit trail",
          params: uuidParam,
          response: {
            200: remediationSummary.extend({
              plan: storedPlan,
              planProblem: z.string().nullable(),
              steps: z.array(step),
              approvals: z.array(approval),
              auditEvents: z.array(auditEvent),
            }),
            400: errorBody,
            401: errorBody,
            403: errorBody,
            404: errorBody,
          },
        },
      },
      async (request) => {
        const r = await deps.prisma.remediation.findUnique({
          where: { id: request.params.id },
          include: { steps: { orderBy: { order: "asc" } }, approvals: { orderBy: { decidedAt: "asc" } } },
        });
        if (!r) throw new HttpError(404, "not_found", `no remediation ${request.params.id}`);
        const events = await deps.prisma.auditEvent.findMany({ where: { remediationId: r.id }, orderBy: { id: "asc" } });
        const plan = readPlan(r.plan);
        if (plan.problem) request.log.warn({ remediationId: r.id, problem: plan.problem }, "stored plan does not match the plan schema");
        const notes = stepNotes(events);
        return {
          ...toRemediationSummary(r),
          plan: plan.plan,
          planProblem: plan.problem,
          steps: r.steps.map((s) => ({
            name: s.name,
            order: s.order,
            status: s.status,
            attempts: s.attempts,
            startedAt: isoOrNull(s.startedAt),
            finishedAt: isoOrNull(s.finishedAt),
            output: s.output,
            errorClass: s.errorClass,
            errorCode: s.errorCode,
            errorMessage: s.errorMessage,
            note: notes.get(`${s.name}\u0000${s.status}`) ?? null,
          })),
          approvals: r.approvals.map((a) => ({ step: a.step, decision: a.decision, actor: a.actor, reason: a.reason, planHash: a.planHash, decidedAt: iso(a.decidedAt) })),
          auditEvents: events.map((e) => ({ at: iso(e.at), actor: e.actor, action: e.action, awsRequestIds: e.awsRequestIds, detail: e.detail })),
        };
      },
    );
    done();
  };
}
