import { findingEvent, remediationEvent, type NotificationEvent, type NotifiedFinding, type NotifiedRemediation, type Notifier } from "../notify/index.js";
import type { ParsedFinding } from "../findings/types.js";
import type { MessageOutcome } from "./messages.js";

/**
 * Something a person must hear about that ingest decided: an exempt outcome of a medium-or-higher
 * finding, or a true version conflict escalated to a person. Recorded in the transaction (as data
 * on the message's outcome and as an audit event), sent only after the commit, so nobody is told
 * about something that was rolled back.
 */
export interface Notice {
  kind: "exempt" | "escalated";
  finding: NotifiedFinding;
  /** The remediation it concerns; null when there is none (a finding the policy exempts). */
  remediation: NotifiedRemediation | null;
  detail: string;
}

/** The finding as a notice names it. */
export function noticeFinding(finding: Pick<ParsedFinding, "id" | "accountId" | "region" | "resourceKey">): NotifiedFinding {
  return { id: finding.id, accountId: finding.accountId, region: finding.region, resourceKey: finding.resourceKey };
}

export function noticeEvent(notice: Notice, publicUrl: string): NotificationEvent {
  return notice.remediation === null
    ? findingEvent(notice.kind, notice.finding, publicUrl, notice.detail)
    : remediationEvent(notice.kind, notice.remediation, publicUrl, notice.detail);
}

/**
 * Hands every notice of committed, first-time outcomes to the notifier (which delivers in the
 * background and never throws). For whoever calls recordBatch: ingest's batches and POST
 * /v1/findings. Returns how many were handed over.
 */
export function sendNotices(notifier: Notifier, publicUrl: string, outcomes: readonly MessageOutcome[]): number {
  let sent = 0;
  for (const outcome of outcomes) {
    if (outcome.redelivered) continue;
    for (const notice of outcome.notices ?? []) {
      notifier.notify(noticeEvent(notice, publicUrl));
      sent++;
    }
  }
  return sent;
}
