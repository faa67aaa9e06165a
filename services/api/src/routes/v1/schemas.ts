import { z } from "zod";

/** Response and request shapes of /v1, shared by the routes and the OpenAPI document. */

export const REMEDIATION_STATUSES = [
  "queued",
  "running",
  "awaiting_approval",
  "succeeded",
  "failed",
  "dry_run",
  "notified",
  "skipped",
  "rejected",
  "expired",
  "cancelled",
  "escalated",
] as const;

/**
 * Free text a person types (a reason, a note): bounded, and no control characters. Postgres text
 * refuses NUL outright (a 500 after the fact), and other C0/C1 controls forge log lines and hide
 * text in the approval page; tab is the one allowed.
 */
export function freeText(min: number, max: number) {
  return z
    .string()
    .trim()
    .min(min)
    .max(max)
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    .refine((s) => !/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/.test(s), "must not contain control characters");
}

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
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
  status: z.string(),
  ruleName: z.string(),
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
  status: z.string(),
  attempts: z.number().int(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  output: z.unknown(),
  errorClass: z.string().nullable(),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
});

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

/** Opaque cursors: base64url of the last row's sort key. */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString("base64url");
}

export function decodeCursor(cursor: string | undefined): { at: Date; id: string } | null {
  if (!cursor) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(parsed) && typeof parsed[0] === "string" && typeof parsed[1] === "string") {
      const at = new Date(parsed[0]);
      if (!Number.isNaN(at.getTime())) return { at, id: parsed[1] };
    }
  } catch {
    // fall through: an unreadable cursor is the caller's error
  }
  return null;
}

export const iso = (d: Date): string => d.toISOString();
export const isoOrNull = (d: Date | null): string | null => (d ? d.toISOString() : null);
