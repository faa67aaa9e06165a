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
}

/**
 * Writes everything one SQS message leads to, inside the batch's transaction: its receipt, the
 * finding at its newest version, and for a finding to act on, its remediation row and the outbox
 * row that will become the BullMQ job. Nothing here talks to Redis or SQS.
 */
export async function recordMessage(
  tx: Tx,
  message: ReceivedMessage,
  parsed: ParseResult,
  deps: RecordDeps,
): Promise<MessageOutcome> {
  const redelivery = await noteRedelivery(tx, message.messageId);
  if (redelivery) return redelivery;

  const body = Buffer.from(message.body, "utf8");
  const receipt = {
    sqsMessageId: message.messageId,
    bodySha256: createHash("sha256").update(body).digest("hex"),
    bodyBytes: body.length,
  };

  if (parsed.status !== "finding") {
    await tx.ingestReceipt.create({
      data: {
        ...receipt,
        outcome: parsed.status,
        reason: parsed.reason,
        detail: parsed.message,
        ...(parsed.status === "rejected" ? { rejectedBody: body.subarray(0, REJECTED_BODY_CAP) } : {}),
      },
    });
    return outcome(message, parsed.status, parsed.reason, null);
  }

  const finding = parsed.finding;
  const findingRef = { findingId: finding.id, findingCount: finding.count, findingUpdatedAt: finding.updatedAt };
  const version = await upsertFinding(tx, finding);

  if (version.kind === "conflict") {
    await tx.ingestReceipt.create({
      data: { ...receipt, outcome: "rejected", reason: "conflicting_update", detail: version.message, rejectedBody: body.subarray(0, REJECTED_BODY_CAP) },
    });
    return outcome(message, "rejected", "conflicting_update", null);
  }
  if (version.kind === "same" || version.kind === "older") {
    const reason = version.kind === "same" ? "same_version" : "older_version";
    await tx.ingestReceipt.create({
      data: { ...receipt, ...findingRef, outcome: "duplicate", reason, detail: version.message },
    });
    return outcome(message, "duplicate", reason, finding.id);
  }

  const decision = deps.route(finding);
  if (decision.action === "ignore") {
    await tx.ingestReceipt.create({
      data: { ...receipt, ...findingRef, outcome: "ignored", reason: decision.reason, detail: decision.message },
    });
    return outcome(message, "ignored", decision.reason, finding.id);
  }

  const created = await createRemediation(tx, finding, decision);
  const reason = version.kind === "inserted" ? "new_finding" : "finding_updated";
  await tx.ingestReceipt.create({
    data: {
      ...receipt,
      ...findingRef,
      outcome: "accepted",
      reason,
      detail: created
        ? `remediation ${created} queued: playbook ${decision.playbook}, mode ${decision.mode}, rule ${decision.rule}`
        : `remediation for ${finding.resourceKey ?? "?"} already exists; finding updated to count ${finding.count}`,
    },
  });
  return { ...outcome(message, "accepted", reason, finding.id), remediationsCreated: created ? 1 : 0 };
}

/** A message SQS delivered again after we committed it: count the delivery, change nothing. */
async function noteRedelivery(tx: Tx, messageId: string): Promise<MessageOutcome | null> {
  // The stored reason is one this code wrote, so it is a ReceiptReason.
  const rows = await tx.$queryRaw<{ outcome: MessageOutcome["outcome"]; reason: ReceiptReason; finding_id: string | null }[]>`
    UPDATE ingest_receipts
       SET deliveries = deliveries + 1, last_received_at = now()
     WHERE sqs_message_id = ${messageId}
 RETURNING outcome::text AS outcome, reason, finding_id`;
  const row = rows[0];
  if (!row) return null;
  return { messageId, outcome: row.outcome, reason: row.reason, findingId: row.finding_id, redelivered: true, remediationsCreated: 0 };
}

/**
 * Inserts the remediation unless one exists for (finding, playbook, resource) — the unique key is
 * the real guard against a second containment — and, when new, its outbox row and audit event.
 * Returns the new remediation's id, or null when it already existed.
 */
async function createRemediation(
  tx: Tx,
  finding: ParsedFinding,
  decision: Extract<RouteDecision, { action: "remediate" }>,
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
  await tx.outboxEntry.create({ data: { remediationId: id, queue: decision.playbook, jobId, payload } });
  await tx.auditEvent.create({
    data: {
      actor: "ingest",
      action: "remediation.queued",
      findingId: finding.id,
      remediationId: id,
      detail: { playbook: decision.playbook, mode: decision.mode, rule: decision.rule, resourceKey, jobId },
    },
  });
  return id;
}

function outcome(message: ReceivedMessage, kind: MessageOutcome["outcome"], reason: ReceiptReason, findingId: string | null): MessageOutcome {
  return { messageId: message.messageId, outcome: kind, reason, findingId, redelivered: false, remediationsCreated: 0 };
}
