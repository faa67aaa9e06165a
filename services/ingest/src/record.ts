import { createHash, randomUUID } from "node:crypto";
import type { Prisma } from "@gdr/core/db/client";
import type { ParseResult } from "@gdr/core/findings/index";
import type { ReceiptReason } from "@gdr/core/findings/reasons";
import type { ParsedFinding } from "@gdr/core/findings/types";
import type { RouteDecision } from "@gdr/core/policy/index";
import { jobIdFor, type RemediationJob } from "@gdr/core/queues/catalog";
import { upsertFinding } from "./finding-upsert.js";
import type { MessageOutcome, ReceivedMessage } from "./messages.js";

type Tx = Prisma.TransactionClient;

/** Rejected bodies are kept verbatim up to this many bytes (the sha256 covers the whole body). */
export const REJECTED_BODY_CAP = 64 * 1024;

export interface RecordDeps {
  route: (finding: ParsedFinding) => RouteDecision;
  /**
   * Who submitted these messages when they did not come from SQS (`token:<name>` for POST
   * /v1/findings): written to each receipt and named by a `finding.submitted` audit event, so an
   * action always says who asked for it. Absent for messages received from the queue.
   */
  submittedBy?: string;
}

export interface ParsedMessage {
  message: ReceivedMessage;
  parsed: ParseResult;
}

/** The rows one batch adds besides findings and remediations, written together at the end. */
interface Pending {
  receipts: Prisma.IngestReceiptCreateManyInput[];
  outbox: Prisma.OutboxEntryCreateManyInput[];
  audit: Prisma.AuditEventCreateManyInput[];
}

/**
 * Writes everything a batch of SQS messages leads to, inside one transaction: a receipt per
 * message, each finding at its newest version, and for each finding to act on its remediation
 * row, the outbox row that becomes its BullMQ job, and an audit event. Nothing here talks to Redis
 * or SQS. Messages are handled in the order given (so two versions in one batch apply in turn);
 * receipts, outbox and audit rows are inserted in bulk at the end to save round trips.
 */
export async function recordBatch(tx: Tx, items: readonly ParsedMessage[], deps: RecordDeps): Promise<MessageOutcome[]> {
  const redelivered = await noteRedeliveries(tx, items.map((i) => i.message.messageId));
  const pending: Pending = { receipts: [], outbox: [], audit: [] };
  const outcomes: MessageOutcome[] = [];
  for (const item of items) {
    const again = redelivered.get(item.message.messageId);
    const result = again ?? (await recordMessage(tx, item, deps, pending));
    outcomes.push(result);
    if (deps.submittedBy !== undefined) pending.audit.push(submittedEvent(deps.submittedBy, result));
  }
  if (pending.receipts.length > 0) await tx.ingestReceipt.createMany({ data: pending.receipts });
  if (pending.outbox.length > 0) await tx.outboxEntry.createMany({ data: pending.outbox });
  if (pending.audit.length > 0) await tx.auditEvent.createMany({ data: pending.audit });
  return outcomes;
}

async function recordMessage(tx: Tx, { message, parsed }: ParsedMessage, deps: RecordDeps, pending: Pending): Promise<MessageOutcome> {
  const body = Buffer.from(message.body, "utf8");
  const receipt: Pick<Prisma.IngestReceiptCreateManyInput, "sqsMessageId" | "bodySha256" | "bodyBytes" | "submittedBy"> = {
    sqsMessageId: message.messageId,
    bodySha256: createHash("sha256").update(body).digest("hex"),
    bodyBytes: body.length,
  };
  const rejectedBody = body.subarray(0, REJECTED_BODY_CAP);
  if (deps.submittedBy !== undefined) receipt.submittedBy = deps.submittedBy;

  if (parsed.status !== "finding") {
    pending.receipts.push({
      ...receipt,
      outcome: parsed.status,
      reason: parsed.reason,
      detail: parsed.message,
      ...(parsed.status === "rejected" ? { rejectedBody } : {}),
    });
    return outcome(message, parsed.status, parsed.reason, null);
  }

  const finding = parsed.finding;
  const findingRef = { findingId: finding.id, findingCount: finding.count, findingUpdatedAt: finding.updatedAt };
  const version = await upsertFinding(tx, finding);

  if (version.kind === "conflict") {
    pending.receipts.push({ ...receipt, outcome: "rejected", reason: "conflicting_update", detail: version.message, rejectedBody });
    return outcome(message, "rejected", "conflicting_update", null);
  }
  if (version.kind === "same" || version.kind === "older") {
    const reason = version.kind === "same" ? "same_version" : "older_version";
    pending.receipts.push({ ...receipt, ...findingRef, outcome: "duplicate", reason, detail: version.message });
    return outcome(message, "duplicate", reason, finding.id);
  }

  const decision = deps.route(finding);
  if (decision.action === "ignore") {
    pending.receipts.push({ ...receipt, ...findingRef, outcome: "ignored", reason: decision.reason, detail: decision.message });
    return outcome(message, "ignored", decision.reason, finding.id);
  }

  const created = await createRemediation(tx, finding, decision, pending, deps.submittedBy);
  const reason = version.kind === "inserted" ? "new_finding" : "finding_updated";
  pending.receipts.push({
    ...receipt,
    ...findingRef,
    outcome: "accepted",
    reason,
    detail: created
      ? `remediation ${created} queued: playbook ${decision.playbook}, mode ${decision.mode}, rule ${decision.rule}`
      : `remediation for ${finding.resourceKey ?? "?"} already exists; finding updated to count ${finding.count}`,
  });
  return { ...outcome(message, "accepted", reason, finding.id), remediationsCreated: created ? 1 : 0 };
}

/**
 * Messages SQS delivered again after we committed them (a crash or a failed delete in between):
 * count the delivery, change nothing else, and report what was recorded the first time.
 */
async function noteRedeliveries(tx: Tx, messageIds: string[]): Promise<Map<string, MessageOutcome>> {
  // The stored reason is one this code wrote, so it is a ReceiptReason.
  const rows = await tx.$queryRaw<{ sqs_message_id: string; outcome: MessageOutcome["outcome"]; reason: ReceiptReason; finding_id: string | null }[]>`
    UPDATE ingest_receipts
       SET deliveries = deliveries + 1, last_received_at = now()
     WHERE sqs_message_id = ANY(${messageIds}::text[])
 RETURNING sqs_message_id, outcome::text AS outcome, reason, finding_id`;
  return new Map(
    rows.map((row) => [
      row.sqs_message_id,
      { messageId: row.sqs_message_id, outcome: row.outcome, reason: row.reason, findingId: row.finding_id, redelivered: true, remediationsCreated: 0 },
    ]),
  );
}

/**
 * Inserts the remediation unless one exists for (finding, playbook, resource) — the unique key is
 * the real guard against a second containment — and, when new, queues its outbox row and audit
 * event. Returns the new remediation's id, or null when it already existed.
 */
async function createRemediation(
  tx: Tx,
  finding: ParsedFinding,
  decision: Extract<RouteDecision, { action: "remediate" }>,
  pending: Pending,
  submittedBy: string | undefined,
): Promise<string | null> {
  const resourceKey = finding.resourceKey;
  if (resourceKey === null) throw new Error(`finding ${finding.id} routed to a playbook without a resource key`);
  const id = randomUUID();
  const jobId = jobIdFor(decision.playbook, finding.id, resourceKey);
  const inserted = await tx.$queryRaw<{ id: string }[]>`
    INSERT INTO remediations (id, finding_id, playbook, resource_key, account_id, region, mode, status, rule_name, job_id, updated_at)
    VALUES (${id}::uuid, ${finding.id}, ${decision.playbook}, ${resourceKey}, ${finding.accountId}, ${finding.region},
            ${decision.mode}::"RemediationMode", 'queued', ${decision.rule}, ${jobId}, now())
    ON CONFLICT (finding_id, playbook, resource_key) DO NOTHING
    RETURNING id::text AS id`;
  if (inserted.length === 0) return null;

  const payload: RemediationJob = {
    remediationId: id,
    findingId: finding.id,
    playbook: decision.playbook,
    mode: decision.mode,
    accountId: finding.accountId,
    region: finding.region,
    resourceKey,
    action: "contain",
  };
  pending.outbox.push({ remediationId: id, queue: decision.playbook, jobId, payload });
  pending.audit.push({
    actor: "ingest",
    action: "remediation.queued",
    findingId: finding.id,
    remediationId: id,
    // submittedBy: the token whose submission queued this (null from SQS), for four-eyes checks.
    detail: { playbook: decision.playbook, mode: decision.mode, rule: decision.rule, resourceKey, jobId, submittedBy: submittedBy ?? null },
  });
  return id;
}

/** The audit event naming who submitted a message outside SQS, and what became of it. */
function submittedEvent(actor: string, result: MessageOutcome): Prisma.AuditEventCreateManyInput {
  return {
    actor,
    action: "finding.submitted",
    findingId: result.findingId,
    detail: { messageId: result.messageId, outcome: result.outcome, reason: result.reason, remediationsCreated: result.remediationsCreated },
  };
}

function outcome(message: ReceivedMessage, kind: MessageOutcome["outcome"], reason: ReceiptReason, findingId: string | null): MessageOutcome {
  return { messageId: message.messageId, outcome: kind, reason, findingId, redelivered: false, remediationsCreated: 0 };
}
