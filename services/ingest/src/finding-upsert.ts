import type { Prisma } from "@gdr/core/db/client";
import type { ParsedFinding } from "@gdr/core/findings/types";

export type UpsertResult =
  | { kind: "inserted" }
  | { kind: "updated" }
  | { kind: "same"; message: string }
  | { kind: "older"; message: string }
  | { kind: "conflict"; message: string };

interface StoredVersion {
  account_id: string;
  region: string;
  resource_type: string;
  resource_key: string | null;
  count: number;
  gd_updated_at: Date;
}

/**
 * Stores a finding at its newest version. GuardDuty re-sends a finding id with a higher
 * `service.count` and a later `updatedAt`; deliveries can arrive out of order, so a version only
 * replaces the stored one when it is newer. A "newer version" that moves the finding to another
 * account, region or resource is not something GuardDuty does: it is refused as a conflict, so a
 * forged message cannot redirect containment.
 */
export async function upsertFinding(tx: Prisma.TransactionClient, f: ParsedFinding): Promise<UpsertResult> {
  const raw = JSON.stringify(f.detail);
  const inserted = await tx.$executeRaw`
    INSERT INTO findings (id, arn, account_id, region, partition, type, severity, title, resource_type, resource_key,
                          count, archived, sample, gd_created_at, gd_updated_at, raw)
    VALUES (${f.id}, ${f.arn}, ${f.accountId}, ${f.region}, ${f.partition}, ${f.type}, ${f.severity}, ${f.title},
            ${f.resourceType}, ${f.resourceKey}, ${f.count}, ${f.archived}, ${f.sample}, ${f.createdAt}, ${f.updatedAt},
            ${raw}::jsonb)
    ON CONFLICT (id) DO NOTHING`;
  if (inserted === 1) return { kind: "inserted" };

  // The row exists: lock it so concurrent batches carrying other versions apply in turn.
  const rows = await tx.$queryRaw<StoredVersion[]>`
    SELECT account_id, region, resource_type, resource_key, count, gd_updated_at
      FROM findings WHERE id = ${f.id} FOR UPDATE`;
  const stored = rows[0];
  if (!stored) throw new Error(`finding ${f.id} vanished inside its transaction`);

  const moved = (
    [
      ["accountId", stored.account_id, f.accountId],
      ["region", stored.region, f.region],
      ["resourceType", stored.resource_type, f.resourceType],
      ["resourceKey", stored.resource_key, f.resourceKey],
    ] as const
  ).filter(([, was, now]) => was !== now);
  if (moved.length > 0) {
    const what = moved.map(([field, was, now]) => `${field} ${String(was)} -> ${String(now)}`).join(", ");
    return { kind: "conflict", message: `finding ${f.id} already recorded with other identity (${what})` };
  }

  const storedAt = stored.gd_updated_at.getTime();
  const incomingAt = f.updatedAt.getTime();
  const newer = incomingAt > storedAt || (incomingAt === storedAt && f.count > stored.count);
  if (!newer) {
    const same = incomingAt === storedAt && f.count === stored.count;
    const message = `stored version: count ${stored.count}, updatedAt ${stored.gd_updated_at.toISOString()}; received count ${f.count}, updatedAt ${f.updatedAt.toISOString()}`;
    return same ? { kind: "same", message } : { kind: "older", message };
  }

  await tx.$executeRaw`
    UPDATE findings
       SET arn = ${f.arn}, type = ${f.type}, severity = ${f.severity}, title = ${f.title}, count = ${f.count},
           archived = ${f.archived}, sample = ${f.sample}, gd_updated_at = ${f.updatedAt}, raw = ${raw}::jsonb,
           last_seen_at = now()
     WHERE id = ${f.id}`;
  return { kind: "updated" };
}
