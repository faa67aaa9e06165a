import type { Prisma } from "../db/client.js";

/** The rows one batch adds besides findings and remediations, written together at the end. */
export interface Pending {
  receipts: Prisma.IngestReceiptCreateManyInput[];
  outbox: Prisma.OutboxEntryCreateManyInput[];
  audit: Prisma.AuditEventCreateManyInput[];
  /** Findings whose exemption this batch already announced (their audit rows are not written yet). */
  exemptNotified: Set<string>;
}
