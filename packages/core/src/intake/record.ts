import { createHash } from "node:crypto";
import type { Prisma } from "../db/client.js";
import type { ParseResult } from "../findings/index.js";
import type { ReceiptReason } from "../findings/reasons.js";
import type { ParsedFinding } from "../findings/types.js";
import type { RouteDecision } from "../policy/index.js";
import { exemptionNotice } from "./exemption-notice.js";
import { upsertFinding } from "./finding-upsert.js";
import type { MessageOutcome, ReceivedMessage } from "./messages.js";
import type { Pending } from "./pending.js";
import { noticeFinding, type Notice } from "./notices.js";
import { createRemediation, escalateConflict } from "./remediation-insert.js";

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


/**
 * Writes everything a batch of SQS messages leads to, inside one transaction: a receipt per
 * message, each finding at its newest version, and for each finding to act on its remediation
 * row, the outbox row that becomes its BullMQ job, and an audit event. Nothing here talks to Redis
 * or SQS. Messages are handled in the order given (so two versions in one batch apply in turn);
 * receipts, outbox and audit rows are inserted in bulk at the end to save round trips.
 */
export async function recordBatch(tx: Tx, items: readonly ParsedMessage[], deps: RecordDeps): Promise<MessageOutcome[]> {
  const redelivered = await noteRedeliveries(tx, items.map((i) => i.message.messageId));
  const pending: Pending = { receipts: [], outbox: [], audit: [], exemptNotified: new Set() };
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
  // Decided before the upsert: whether this version acts decides whether it may replace a stored
  // version that produced no remediation (finding-upsert.ts). The decision is pure.
  const decision = deps.route(finding);
  const version = await upsertFinding(tx, finding, decision.action === "remediate");

  if (version.kind === "conflict") {
    if (!version.acts || decision.action !== "remediate") {
      pending.receipts.push({ ...receipt, outcome: "rejected", reason: "conflicting_update", detail: version.message, rejectedBody });
      return outcome(message, "rejected", "conflicting_update", null);
    }
    const escalated = await escalateConflict(tx, finding, decision, version.message, pending);
    pending.receipts.push({
      ...receipt,
      ...findingRef,
      outcome: "accepted",
      reason: "conflict_escalated",
      detail: escalated
        ? escalated.remediation
          ? `remediation ${escalated.remediation.id} escalated to a person, nothing runs: ${version.message}`
          : `escalated to a person with no remediation of its own: ${escalated.detail}`
        : `remediation for ${finding.resourceKey ?? "?"} already recorded (escalated): ${version.message}`,
    });
    return {
      ...outcome(message, "accepted", "conflict_escalated", finding.id),
      remediationsCreated: escalated?.remediation ? 1 : 0,
      notices: escalated ? [escalated] : [],
    };
  }
  if (version.kind === "same" || version.kind === "older") {
    const reason = version.kind === "same" ? "same_version" : "older_version";
    pending.receipts.push({ ...receipt, ...findingRef, outcome: "duplicate", reason, detail: version.message });
    return outcome(message, "duplicate", reason, finding.id);
  }

  if (decision.action === "ignore") {
    pending.receipts.push({ ...receipt, ...findingRef, outcome: "ignored", reason: decision.reason, detail: decision.message });
    const notice = await exemptionNotice(tx, finding, decision.exemption, null, pending);
    return { ...outcome(message, "ignored", decision.reason, finding.id), notices: notice ? [notice] : [] };
  }

  const created = await createRemediation(tx, finding, decision, pending, deps.submittedBy, decision.resourceKey);
  // Fan-out: the policy's `additional` entries, each its own remediation (deduplicated alike).
  const extra = await createAdditional(tx, finding, decision, pending, deps.submittedBy);
  const reason = version.kind === "inserted" ? "new_finding" : version.kind === "updated" ? "finding_updated" : "finding_replaced";
  const replaced = version.kind === "replaced" ? `; ${version.message}` : "";
  const exempt = decision.exemption ? `; ${decision.exemption.message}` : "";
  pending.receipts.push({
    ...receipt,
    ...findingRef,
    outcome: "accepted",
    reason,
    detail:
      (created
        ? `remediation ${created.id} queued: playbook ${decision.playbook}, mode ${decision.mode}, rule ${decision.rule}${exempt}${replaced}`
        : `remediation for ${decision.resourceKey} already exists; finding updated to count ${finding.count}${replaced}`) + extra.detail,
  });
  // An exemption is told about with the remediation it shaped, once: not again for each update.
  const notice = created ? await exemptionNotice(tx, finding, decision.exemption, created, pending) : null;
  return {
    ...outcome(message, "accepted", reason, finding.id),
    remediationsCreated: (created ? 1 : 0) + extra.created,
    notices: [...(notice ? [notice] : []), ...extra.notices],
  };
}

/**
 * The remediations the policy's `additional` entries add beside the chosen one (an image's beside
 * its task's), and an `additional` entry that matched with nothing to act on: recorded (an audit
 * event) and told, once per finding and entry, never dropped silently.
 */
async function createAdditional(
  tx: Tx,
  finding: ParsedFinding,
  decision: Extract<RouteDecision, { action: "remediate" }>,
  pending: Pending,
  submittedBy: string | undefined,
): Promise<{ created: number; detail: string; notices: Notice[] }> {
  const parts: string[] = [];
  const notices: Notice[] = [];
  let created = 0;
  for (const extra of decision.additional) {
    const row = await createRemediation(tx, finding, { ...extra, ...(decision.exemption ? { exemption: decision.exemption } : {}) }, pending, submittedBy, extra.resourceKey);
    if (row) created += 1;
    parts.push(row ? `remediation ${row.id} queued: playbook ${extra.playbook}, mode ${extra.mode}, rule ${extra.rule}` : `remediation ${extra.playbook} for ${extra.resourceKey} already exists`);
  }
  for (const unresolved of decision.unresolved) {
    parts.push(`no ${unresolved.playbook} remediation (rule ${unresolved.rule}): ${unresolved.reason}`);
    const told = await tx.auditEvent.count({
      where: { findingId: finding.id, action: "finding.additional_unresolved", detail: { path: ["rule"], equals: unresolved.rule } },
    });
    if (told > 0) continue;
    pending.audit.push({ actor: "ingest", action: "finding.additional_unresolved", findingId: finding.id, remediationId: null, detail: { ...unresolved } });
    notices.push({ kind: "escalated", finding: noticeFinding(finding), remediation: null, detail: `${unresolved.playbook} (rule ${unresolved.rule}) not started: ${unresolved.reason}; act by hand if needed` });
  }
  return { created, detail: parts.map((p) => `; ${p}`).join(""), notices };
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
