import type { Prisma } from "@gdr/core/db/client";
import type { FastifyPluginCallbackZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { errorBody, HttpError } from "../../plugins/errors.js";
import { requireRole } from "../../plugins/auth.js";
import {
  decodeCursor,
  encodeCursor,
  ACCOUNT_ID,
  FINDING_ID,
  findingSummary,
  iso,
  occurrence,
  pageQuery,
  queryDate,
  queryText,
  remediationStatus,
  remediationSummary,
} from "./schemas.js";
import { toRemediationSummary } from "./remediations.js";

type FindingRow = Prisma.FindingGetPayload<object>;

export function toFindingSummary(f: FindingRow): z.infer<typeof findingSummary> {
  return {
    id: f.id,
    accountId: f.accountId,
    region: f.region,
    type: f.type,
    severity: Number(f.severity),
    title: f.title,
    resourceType: f.resourceType,
    resourceKey: f.resourceKey,
    count: f.count,
    archived: f.archived,
    createdAt: iso(f.gdCreatedAt),
    updatedAt: iso(f.gdUpdatedAt),
    firstSeenAt: iso(f.firstSeenAt),
    lastSeenAt: iso(f.lastSeenAt),
  };
}

export function findingRoutes(deps: ApiDeps): FastifyPluginCallbackZod {
  return (app, _options, done) => {
    app.get(
      "/findings",
      {
        onRequest: requireRole(deps.prisma, "viewer"),
        schema: {
          summary: "List findings, newest first",
          querystring: z.object({
            ...pageQuery,
            accountId: z.string().regex(ACCOUNT_ID).optional(),
            type: queryText(256).optional(),
            minSeverity: z.coerce.number().min(0).max(10).optional(),
            resourceType: queryText(64).optional(),
            resourceKey: queryText(512).optional(),
            /** Only findings with a remediation in this status. */
            status: remediationStatus.optional(),
            since: queryDate.optional(),
            until: queryDate.optional(),
          }),
          response: { 200: z.object({ items: z.array(findingSummary), nextCursor: z.string().nullable() }), 400: errorBody, 401: errorBody, 403: errorBody },
        },
      },
      async (request) => {
        const q = request.query;
        const cursor = decodeCursor(q.cursor, FINDING_ID);
        if (q.cursor && !cursor) throw new HttpError(400, "invalid_cursor", "the cursor is not one this API gave out");
        const where: Prisma.FindingWhereInput = {
          ...(q.accountId ? { accountId: q.accountId } : {}),
          ...(q.type ? { type: q.type } : {}),
          ...(q.minSeverity !== undefined ? { severity: { gte: q.minSeverity } } : {}),
          ...(q.resourceType ? { resourceType: q.resourceType } : {}),
          ...(q.resourceKey ? { resourceKey: q.resourceKey } : {}),
          ...(q.status ? { remediations: { some: { status: q.status } } } : {}),
          ...(q.since || q.until ? { gdUpdatedAt: { ...(q.since ? { gte: q.since } : {}), ...(q.until ? { lt: q.until } : {}) } } : {}),
          ...(cursor ? { OR: [{ gdUpdatedAt: { lt: cursor.at } }, { gdUpdatedAt: cursor.at, id: { lt: cursor.id } }] } : {}),
        };
        const rows = await deps.prisma.finding.findMany({ where, orderBy: [{ gdUpdatedAt: "desc" }, { id: "desc" }], take: q.limit + 1 });
        const page = rows.slice(0, q.limit);
        const last = page.at(-1);
        return { items: page.map(toFindingSummary), nextCursor: rows.length > q.limit && last ? encodeCursor(last.gdUpdatedAt, last.id) : null };
      },
    );

    app.get(
      "/findings/:id",
      {
        onRequest: requireRole(deps.prisma, "viewer"),
        schema: {
          summary: "One finding with its occurrences (every delivery) and remediations",
          params: z.object({ id: z.string().regex(FINDING_ID) }),
          response: {
            200: findingSummary.extend({ raw: z.unknown(), occurrences: z.array(occurrence), remediations: z.array(remediationSummary) }),
            400: errorBody,
            401: errorBody,
            403: errorBody,
            404: errorBody,
          },
        },
      },
      async (request) => {
        const f = await deps.prisma.finding.findUnique({
          where: { id: request.params.id },
          include: { receipts: { orderBy: { receivedAt: "asc" } }, remediations: { orderBy: { createdAt: "asc" } } },
        });
        if (!f) throw new HttpError(404, "not_found", `no finding ${request.params.id}`);
        return {
          ...toFindingSummary(f),
          raw: f.raw,
          occurrences: f.receipts.map((r) => ({
            sqsMessageId: r.sqsMessageId,
            outcome: r.outcome,
            reason: r.reason,
            count: r.findingCount,
            updatedAt: r.findingUpdatedAt ? iso(r.findingUpdatedAt) : null,
            receivedAt: iso(r.receivedAt),
            deliveries: r.deliveries,
          })),
          remediations: f.remediations.map(toRemediationSummary),
        };
      },
    );
    done();
  };
}
