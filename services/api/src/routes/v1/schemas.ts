import { dryRunPlanSchema, frozenPlanSchema, jsonValueSchema, plannedCallSchema, storedPlanSchema } from "@gdr/core/approvals/plan";
import { textProblem } from "@gdr/core/text";
import { RemediationStatus, StepStatus } from "@gdr/core/db/client";
import { ACCOUNT_ID as ACCOUNT_ID_PATTERN, FINDING_ID as FINDING_ID_PATTERN } from "@gdr/core/findings/patterns";
import { z } from "zod";

/** Response and request shapes of /v1, shared by the routes and the OpenAPI document. */

/** The statuses as the database defines them (Prisma's enums), so a new one reaches the API. */
export const remediationStatus = z.enum(RemediationStatus);
export const stepStatus = z.enum(StepStatus);

/**
 * Free text a person types (a reason, a note): bounded, and nothing Postgres or the logs cannot
 * take (control characters but tab, lone surrogates: core's textProblem); a 400, not a 500 after
 * the fact. Tab is the one control allowed.
 */
export function freeText(min: number, max: number) {
  return z
    .string()
    .trim()
    .min(min)
    .max(max)
    .superRefine((s, ctx) => {
      const problem = textProblem(s);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A query-string filter compared verbatim with a column (a finding type, a resource key): bounded,
 * not trimmed (a filter means what it says), and no control characters at all (a NUL is a
 * Postgres error, so a 500, not an empty page).
 */
export function queryText(max: number) {
  return z.string().min(1).max(max).refine((s) => !CONTROL.test(s), "must not contain control characters");
}

/**
 * Timestamps Postgres and the API both handle: years 1 to 9999. JavaScript's Date reaches far
 * wider (±275760 years, and "-1" parses as 2001), which timestamptz and the ISO form this API
 * answers with do not.
 */
export const EARLIEST = new Date("0001-01-01T00:00:00.000Z");
export const LATEST = new Date("9999-12-31T23:59:59.999Z");
export const inDateRange = (d: Date): boolean => d.getTime() >= EARLIEST.getTime() && d.getTime() <= LATEST.getTime();
export const queryDate = z.coerce.date().refine(inDateRange, "must be a date between 0001-01-01 and 9999-12-31");

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).regex(/^[A-Za-z0-9_-]+$/, "must be a cursor this API gave out").optional(),
};

export const findingSummary = z.object({
  id: z.string(),
  accountId: z.string(),
  region: z.string(),
  type: z.string(),
  severity: z.number(),
  title: z.string(),
  resourceType: z.string(),
  resourceKey: z.string().nullable(),
  count: z.number().int(),
  archived: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
});

export const remediationSummary = z.object({
  id: z.string(),
  findingId: z.string(),
  playbook: z.string(),
  resourceKey: z.string(),
  accountId: z.string(),
  region: z.string(),
  mode: z.string(),
  status: remediationStatus,
  ruleName: z.string(),
  /** The remediation whose playbook started this one (an ECS task's host), or null (ingest started it). */
  parentId: z.string().nullable(),
  planHash: z.string().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const occurrence = z.object({
  sqsMessageId: z.string(),
  outcome: z.string(),
  reason: z.string(),
  count: z.number().int().nullable(),
  updatedAt: z.string().nullable(),
  receivedAt: z.string(),
  deliveries: z.number().int(),
});

export const step = z.object({
  name: z.string(),
  order: z.number().int(),
  /**
   * `unavailable`: the step could not do its work and the playbook carried on (`note` says why);
   * `verified`: the final check found the containment in place.
   */
  status: stepStatus,
  attempts: z.number().int(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  output: z.unknown(),
  errorClass: z.string().nullable(),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  /** What the step's last outcome said: the reason an `unavailable` step could not do its work. */
  note: z.string().nullable(),
});

/**
 * The plan stored on a remediation (the frozen plan a person approves by its hash, or a dry run's
 * record), or null: none, or one that does not read as either (`planProblem` says why).
 */
export const storedPlan = storedPlanSchema.nullable();

/**
 * The schemas the OpenAPI document names as components: the plan types by name, and JSON values,
 * which are recursive and so need a name to be referred to at all.
 */
export function openApiComponents(): z.core.$ZodRegistry<{ id: string }> {
  const registry = z.registry<{ id: string }>();
  registry.add(jsonValueSchema, { id: "JsonValue" });
  registry.add(plannedCallSchema, { id: "PlannedCall" });
  registry.add(frozenPlanSchema, { id: "FrozenPlan" });
  registry.add(dryRunPlanSchema, { id: "DryRunPlan" });
  return registry;
}

export const approval = z.object({
  step: z.string(),
  decision: z.string(),
  actor: z.string(),
  reason: z.string(),
  planHash: z.string(),
  decidedAt: z.string(),
});

export const auditEvent = z.object({
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  awsRequestIds: z.array(z.string()),
  detail: z.unknown(),
});

export const decisionBody = z.object({
  reason: freeText(3, 2_000),
  /** The hash of the plan the person reviewed; a changed plan answers 409. */
  planHash: z.string().regex(/^[0-9a-f]{64}$/, "must be the 64-hex-character plan hash"),
});

export const uuidParam = z.object({ id: z.uuid() });

/** GuardDuty finding ids, as the parser accepts them (core's one set of identifier patterns). */
export const FINDING_ID = FINDING_ID_PATTERN.regex;
/** AWS account ids, as everywhere else. */
export const ACCOUNT_ID = ACCOUNT_ID_PATTERN.regex;
/** A uuid as Postgres reads it (the remediation ids). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Opaque cursors: base64url of the last row's sort key, `[ISO timestamp, id]`. */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString("base64url");
}

/** Exactly what toISOString writes for years 1 to 9999: nothing else came from this API. */
const CURSOR_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The sort key a cursor carries, or null when it is not one this API gave out: anything but a
 * two-element array of a canonical timestamp (which round-trips) and an id of the listed kind
 * (`idPattern`: a finding id, a uuid). A crafted cursor must never reach the query, where a
 * non-uuid id or an out-of-range date is a database error (a 500), not the caller's 400.
 */
export function decodeCursor(cursor: string | undefined, idPattern: RegExp): { at: Date; id: string } | null {
  if (!cursor) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return null;
  const [at, id] = parsed as unknown[];
  if (typeof at !== "string" || typeof id !== "string" || !CURSOR_AT.test(at) || !idPattern.test(id)) return null;
  const date = new Date(at);
  if (Number.isNaN(date.getTime()) || date.toISOString() !== at || !inDateRange(date)) return null;
  return { at: date, id };
}

export const iso = (d: Date): string => d.toISOString();
export const isoOrNull = (d: Date | null): string | null => (d ? d.toISOString() : null);
