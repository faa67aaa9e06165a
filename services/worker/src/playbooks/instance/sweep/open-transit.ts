// The transit marks as the sweep reads them: per network interface, whether the latest mark says
// it entered its VPC's transit group and never left (kit/isolation/ledger.ts). Marks of any
// playbook that isolates through the kit (instance ENIs, ECS task ENIs) are read the same way.
import type { Prisma, PrismaClient } from "@gdr/core/db/client";
import { TRANSIT_ENTERED, TRANSIT_LEFT, type TransitExit, type TransitRecord } from "../../kit/isolation/ledger.js";
import { ACCOUNT_ID, NETWORK_INTERFACE_ID, REGION, SECURITY_GROUP_ID, VPC_ID } from "../shared/ids.js";

export interface OpenTransit extends TransitRecord {
  /** The remediation that moved the interface onto transit (the sweep's mark is recorded against it). */
  remediationId: string | null;
  enteredAt: Date;
}

type MarksDb = Pick<PrismaClient, "$queryRaw">;

interface Row {
  remediationId: string | null;
  at: Date;
  detail: unknown;
}

/**
 * Interfaces whose latest mark is "entered", older than `minAgeMs` (Postgres's clock): an
 * isolation that marked it longer ago than the lock TTL has finished or died (a live worker's
 * own move and the sweep's are the same move, so a race between them ends the same way).
 */
export async function findOpenTransit(prisma: MarksDb, minAgeMs: number, limit = 100): Promise<OpenTransit[]> {
  const rows = await prisma.$queryRaw<Row[]>`
    SELECT "remediationId", at, detail FROM (
      SELECT DISTINCT ON (detail->>'accountId', detail->>'region', detail->>'eniId')
        remediation_id::text AS "remediationId", at, action, detail, id
      FROM audit_events
      WHERE action IN (${TRANSIT_ENTERED}, ${TRANSIT_LEFT})
      ORDER BY detail->>'accountId', detail->>'region', detail->>'eniId', id DESC
    ) latest
    WHERE action = ${TRANSIT_ENTERED} AND at < now() - (${minAgeMs}::int * interval '1 millisecond')
    ORDER BY id
    LIMIT ${limit}`;
  return rows.flatMap((row) => {
    const record = parseRecord(row.detail);
    return record ? [{ ...record, remediationId: row.remediationId, enteredAt: row.at }] : [];
  });
}

/** Whether the interface's latest mark still says "entered" (another sweeper may have acted since). */
export async function isStillInTransit(prisma: MarksDb, at: Pick<TransitRecord, "accountId" | "region" | "eniId">): Promise<boolean> {
  const rows = await prisma.$queryRaw<{ action: string }[]>`
    SELECT action FROM audit_events
    WHERE action IN (${TRANSIT_ENTERED}, ${TRANSIT_LEFT})
      AND detail->>'accountId' = ${at.accountId} AND detail->>'region' = ${at.region} AND detail->>'eniId' = ${at.eniId}
    ORDER BY id DESC
    LIMIT 1`;
  return rows[0]?.action === TRANSIT_ENTERED;
}

/**
 * Whether the remediation that marked the interface may still move it itself: queued or running
 * (a worker is on it, or a retry will be). A worker held up by its rate limits for longer than the
 * lock TTL between its mark and its move onto transit must find its mark still open: closed
 * "elsewhere" meanwhile, an interface it then left on transit (dying) would be no sweep's to move.
 */
export async function mayStillMove(prisma: MarksDb, remediationId: string | null): Promise<boolean> {
  if (remediationId === null) return false;
  const rows = await prisma.$queryRaw<{ status: string }[]>`SELECT status::text AS status FROM remediations WHERE id = ${remediationId}::uuid`;
  return ["queued", "running"].includes(rows[0]?.status ?? "");
}

/** Records the sweep's "left" mark, against the remediation that marked the interface entering. */
export async function recordSweptLeft(
  prisma: Pick<PrismaClient, "auditEvent">,
  open: OpenTransit,
  to: TransitExit,
  awsRequestIds: string[],
): Promise<void> {
  const record: TransitRecord = {
    accountId: open.accountId,
    region: open.region,
    vpcId: open.vpcId,
    eniId: open.eniId,
    transitGroupId: open.transitGroupId,
    containmentGroupId: open.containmentGroupId,
  };
  const detail: Prisma.InputJsonObject = { ...record, to, by: "sweep" };
  await prisma.auditEvent.create({ data: { actor: "worker:egress-sweep", action: TRANSIT_LEFT, remediationId: open.remediationId, awsRequestIds, detail } });
}

/** The mark's detail, every identifier checked again: it decides where AWS calls go. */
function parseRecord(detail: unknown): TransitRecord | null {
  if (typeof detail !== "object" || detail === null) return null;
  const d = detail as Record<string, unknown>;
  const ok =
    matches(ACCOUNT_ID.regex, d.accountId) &&
    matches(REGION.regex, d.region) &&
    matches(VPC_ID.regex, d.vpcId) &&
    matches(NETWORK_INTERFACE_ID.regex, d.eniId) &&
    matches(SECURITY_GROUP_ID.regex, d.transitGroupId) &&
    matches(SECURITY_GROUP_ID.regex, d.containmentGroupId);
  if (!ok) return null;
  return {
    accountId: d.accountId as string,
    region: d.region as string,
    vpcId: d.vpcId as string,
    eniId: d.eniId as string,
    transitGroupId: d.transitGroupId as string,
    containmentGroupId: d.containmentGroupId as string,
  };
}

function matches(regex: RegExp, value: unknown): boolean {
  return typeof value === "string" && regex.test(value);
}
