// The previous procedure's egress ledger as the sweep reads it: per VPC, whether the latest record
// says the temporary egress rule is still open. Nothing opens one any more (the two-group
// procedure puts no rule on the containment group); records a worker of the previous version left
// open are still closed. One VPC's records are written under its isolation lock, so they never
// interleave and the latest one is the truth.
import type { Prisma, PrismaClient } from "@gdr/core/db/client";
import { EGRESS_CLOSED, EGRESS_OPENED, type EgressRecord } from "../../kit/isolation/ledger.js";
import { ACCOUNT_ID, REGION, SECURITY_GROUP_ID, VPC_ID } from "../shared/ids.js";

export interface OpenEgress extends EgressRecord {
  /** The remediation whose isolation opened it (the close is recorded against it too). */
  remediationId: string | null;
  openedAt: Date;
}

type LedgerDb = Pick<PrismaClient, "$queryRaw">;

interface Row {
  remediationId: string | null;
  at: Date;
  action: string;
  detail: unknown;
}

/**
 * VPCs whose latest record is "opened" and older than `minAgeMs` (Postgres's clock): an isolation
 * that opened it longer ago than the lock TTL is either finished, or dead, or still holding its
 * lock (the sweep then finds the lock taken and leaves it alone).
 *
 * Cost: the index on audit_events (action, at) narrows it to the ledger's records.
 */
export async function findOpenEgress(prisma: LedgerDb, minAgeMs: number, limit = 100): Promise<OpenEgress[]> {
  const rows = await prisma.$queryRaw<Row[]>`
    SELECT "remediationId", at, action, detail FROM (
      SELECT DISTINCT ON (detail->>'accountId', detail->>'region', detail->>'vpcId')
        remediation_id::text AS "remediationId", at, action, detail, id
      FROM audit_events
      WHERE action IN (${EGRESS_OPENED}, ${EGRESS_CLOSED})
      ORDER BY detail->>'accountId', detail->>'region', detail->>'vpcId', id DESC
    ) latest
    WHERE action = ${EGRESS_OPENED} AND at < now() - (${minAgeMs}::int * interval '1 millisecond')
    ORDER BY id
    LIMIT ${limit}`;
  return rows.flatMap((row) => {
    const record = parseRecord(row.detail);
    return record ? [{ ...record, remediationId: row.remediationId, openedAt: row.at }] : [];
  });
}

/** Whether the VPC's latest record still says "opened" (another sweeper may have closed it since). */
export async function isStillOpen(prisma: LedgerDb, at: Pick<EgressRecord, "accountId" | "region" | "vpcId">): Promise<boolean> {
  const rows = await prisma.$queryRaw<{ action: string }[]>`
    SELECT action FROM audit_events
    WHERE action IN (${EGRESS_OPENED}, ${EGRESS_CLOSED})
      AND detail->>'accountId' = ${at.accountId} AND detail->>'region' = ${at.region} AND detail->>'vpcId' = ${at.vpcId}
    ORDER BY id DESC
    LIMIT 1`;
  return rows[0]?.action === EGRESS_OPENED;
}

/** Records the sweep's close, against the remediation that opened it. */
export async function recordSweptClosed(
  prisma: Pick<PrismaClient, "auditEvent">,
  open: OpenEgress,
  groupIds: string[],
  awsRequestIds: string[],
): Promise<void> {
  const detail: Prisma.InputJsonObject = { accountId: open.accountId, region: open.region, vpcId: open.vpcId, groupIds, by: "sweep" };
  await prisma.auditEvent.create({
    data: { actor: "worker:egress-sweep", action: EGRESS_CLOSED, remediationId: open.remediationId, awsRequestIds, detail },
  });
}

/** The record's detail, every identifier checked again: it decides where AWS calls go. */
function parseRecord(detail: unknown): EgressRecord | null {
  if (typeof detail !== "object" || detail === null) return null;
  const d = detail as Record<string, unknown>;
  const groupIds = Array.isArray(d.groupIds) ? d.groupIds : [];
  const ok =
    matches(ACCOUNT_ID.regex, d.accountId) &&
    matches(REGION.regex, d.region) &&
    matches(VPC_ID.regex, d.vpcId) &&
    groupIds.every((g) => matches(SECURITY_GROUP_ID.regex, g));
  if (!ok) return null;
  return { accountId: d.accountId as string, region: d.region as string, vpcId: d.vpcId as string, groupIds: groupIds as string[] };
}

function matches(regex: RegExp, value: unknown): boolean {
  return typeof value === "string" && regex.test(value);
}
