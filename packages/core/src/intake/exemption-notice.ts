import type { Prisma } from "../db/client.js";
import type { ParsedFinding } from "../findings/types.js";
import type { NotifiedRemediation } from "../notify/index.js";
import type { Exemption } from "../policy/index.js";
import { noticeFinding, type Notice } from "./notices.js";
import type { Pending } from "./pending.js";

/**
 * Every exempt outcome of a medium-or-higher finding is told to people (policy/exempt.ts says
 * which). Once per finding: GuardDuty re-sends a finding with each new occurrence, and each
 * update would otherwise repeat the message. The `finding.exempt` audit event is both the record
 * of the exemption and the memory that it was announced.
 */
export async function exemptionNotice(
  tx: Prisma.TransactionClient,
  finding: ParsedFinding,
  exemption: Exemption | undefined,
  remediation: NotifiedRemediation | null,
  pending: Pending,
): Promise<Notice | null> {
  if (exemption === undefined || !exemption.notify) return null;
  if (pending.exemptNotified.has(finding.id)) return null;
  const told = await tx.$queryRaw<{ one: number }[]>`
    SELECT 1 AS one FROM audit_events WHERE finding_id = ${finding.id} AND action = 'finding.exempt' LIMIT 1`;
  if (told.length > 0) return null;

  pending.exemptNotified.add(finding.id);
  pending.audit.push({
    actor: "ingest",
    action: "finding.exempt",
    findingId: finding.id,
    remediationId: remediation?.id ?? null,
    detail: { by: exemption.by, message: exemption.message, severity: finding.severity, resourceKey: finding.resourceKey, notified: true },
  });
  return {
    kind: "exempt",
    finding: noticeFinding(finding),
    remediation,
    detail: `severity ${finding.severity}: ${exemption.message}`,
  };
}
