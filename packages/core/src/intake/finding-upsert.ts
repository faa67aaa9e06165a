import type { Prisma } from "../db/client.js";
import type { ParsedFinding } from "../findings/types.js";

export type UpsertResult =
  | { kind: "inserted" }
  | { kind: "updated" }
  /** A version that acted on nothing was replaced by this one (whatever their updatedAt order). */
  | { kind: "replaced"; message: string }
  | { kind: "same"; message: string }
  | { kind: "older"; message: string }
  /**
   * This version names another account, region or resource than the one a remediation already
   * exists for. `acts`: it would be acted on too (a true conflict, for a person to resolve).
   */
  | { kind: "conflict"; acts: boolean; message: string };

interface StoredVersion {
  account_id: string;
  region: string;
  resource_type: string;
  resource_key: string | null;
  type: string;
  /** service.detectorId of the stored version (null when absent). */
  detector_id: string | null;
  severity: number;
  count: number;
  archived: boolean;
  gd_updated_at: Date;
  /** A remediation exists for this finding: the stored identity has been acted on. */
  acted: boolean;
}

/**
 * Stores a finding at the version that counts. GuardDuty re-sends a finding id with a higher
 * `service.count` and a later `updatedAt`; standard SQS delivers in any order, and anyone who can
 * send to the queue can send a message with a real finding's id. Two rules keep the order of
 * arrival from deciding containment:
 *
 * 1. Until a version of the finding has been acted on (a remediation exists), nothing about the
 *    stored version is binding. A version that acts (`acts`: the policy routes it to a playbook)
 *    replaces a stored version that produced no remediation — ignored as unsupported, sample,
 *    exempt, low, archived — whatever their updatedAt order and even if it names another resource.
 *    An archived version is no exception: a forged one would otherwise shadow the real finding;
 *    GuardDuty itself says whether the finding is archived, before anything changes (worker gate).
 * 2. Once a version has been acted on, its account, region and resource are fixed. A version
 *    naming others is a conflict: refused when it would not act anyway, escalated to a person
 *    when it would (two valid versions naming different resources: we cannot tell which is
 *    forged, and neither may be dropped silently).
 *
 * Identity here includes the finding type and `service.detectorId`: GuardDuty never changes either
 * for a finding id, and the worker confirms the finding with GuardDuty using the stored ones, so a
 * version changing them must not rewrite an acted row (it would escalate the real remediation and
 * shadow every real later update).
 *
 * Within one identity, versions only move forward (later updatedAt, or equal with a higher count).
 * Once acted on, a newer version never raises the stored severity: the remediation's mode was
 * decided from the severity it was acted on at, and the worker escalates when the stored severity
 * exceeds GuardDuty's, so a forged higher one could only stop the real remediation.
 */
export async function upsertFinding(tx: Prisma.TransactionClient, f: ParsedFinding, acts: boolean): Promise<UpsertResult> {
  const raw = JSON.stringify(f.detail);
  const inserted = await tx.$executeRaw`
    INSERT INTO findings (id, arn, account_id, region, partition, type, severity, title, resource_type, resource_key,
                          count, archived, sample, gd_created_at, gd_updated_at, raw)
    VALUES (${f.id}, ${f.arn}, ${f.accountId}, ${f.region}, ${f.partition}, ${f.type}, ${f.severity}, ${f.title},
            ${f.resourceType}, ${f.resourceKey}, ${f.count}, ${f.archived}, ${f.sample}, ${f.createdAt}, ${f.updatedAt},
            ${raw}::jsonb)
    ON CONFLICT (id) DO NOTHING`;
  if (inserted === 1) return { kind: "inserted" };

  // The row exists: lock it so concurrent batches carrying other versions apply in turn. Every
  // remediation is inserted under this lock, so `acted` cannot change before we commit.
  const rows = await tx.$queryRaw<StoredVersion[]>`
    SELECT account_id, region, resource_type, resource_key, type, raw->'service'->>'detectorId' AS detector_id,
           severity::float8 AS severity, count, archived, gd_updated_at,
           EXISTS (SELECT 1 FROM remediations r WHERE r.finding_id = findings.id) AS acted
      FROM findings WHERE id = ${f.id} FOR UPDATE`;
  const stored = rows[0];
  if (!stored) throw new Error(`finding ${f.id} vanished inside its transaction`);

  const storedAt = stored.gd_updated_at.getTime();
  const incomingAt = f.updatedAt.getTime();
  const newer = incomingAt > storedAt || (incomingAt === storedAt && f.count > stored.count);
  const versions = `stored version: count ${stored.count}, updatedAt ${stored.gd_updated_at.toISOString()}; received count ${f.count}, updatedAt ${f.updatedAt.toISOString()}`;
  const moved = identityChanges(stored, f);

  if (moved === null) {
    if (newer) {
      await writeVersion(tx, f, raw, stored.acted && f.severity > stored.severity);
      return { kind: "updated" };
    }
    // An archived version binds nothing either: anyone who can send to the queue can send one
    // with a later updatedAt. Whether the finding really is archived is GuardDuty's to say, and the
    // worker asks it (the confirmation gate escalates a finding GuardDuty holds archived).
    if (acts && !stored.acted) {
      await writeVersion(tx, f, raw);
      return { kind: "replaced", message: `replaced a newer version that produced no remediation (${versions})` };
    }
    const same = incomingAt === storedAt && f.count === stored.count;
    return same ? { kind: "same", message: versions } : { kind: "older", message: versions };
  }

  if (stored.acted) {
    const message = `finding ${f.id} was acted on with another identity (${moved})`;
    return { kind: "conflict", acts, message };
  }
  if (acts || newer) {
    await writeVersion(tx, f, raw);
    return { kind: "replaced", message: `replaced a version that produced no remediation and named another identity (${moved}; ${versions})` };
  }
  return { kind: "older", message: `a newer version that produced no remediation names another identity (${moved}; ${versions})` };
}

/** "resourceKey i-a -> i-b, region ..." for each identity field that differs, or null. */
function identityChanges(stored: StoredVersion, f: ParsedFinding): string | null {
  const moved = (
    [
      ["accountId", stored.account_id, f.accountId],
      ["region", stored.region, f.region],
      ["resourceType", stored.resource_type, f.resourceType],
      ["resourceKey", stored.resource_key, f.resourceKey],
      ["type", stored.type, f.type],
      ["detectorId", stored.detector_id, detectorIdOf(f)],
    ] as const
  ).filter(([, was, now]) => was !== now);
  return moved.length === 0 ? null : moved.map(([field, was, now]) => `${field} ${String(was)} -> ${String(now)}`).join(", ");
}

export function detectorIdOf(f: ParsedFinding): string | null {
  const service = (f.detail as { service?: unknown }).service;
  const id = typeof service === "object" && service !== null ? (service as { detectorId?: unknown }).detectorId : undefined;
  return typeof id === "string" ? id : null;
}

/**
 * The whole version, identity included (unchanged for an update, new for a replacement).
 * `keepSeverity`: the stored severity stays, in the column and in raw (which the worker reads).
 */
async function writeVersion(tx: Prisma.TransactionClient, f: ParsedFinding, raw: string, keepSeverity = false): Promise<void> {
  await tx.$executeRaw`
    UPDATE findings
       SET arn = ${f.arn}, account_id = ${f.accountId}, region = ${f.region}, partition = ${f.partition}, type = ${f.type},
           severity = CASE WHEN ${keepSeverity} THEN severity ELSE ${f.severity} END,
           title = ${f.title}, resource_type = ${f.resourceType}, resource_key = ${f.resourceKey},
           count = ${f.count}, archived = ${f.archived}, sample = ${f.sample}, gd_created_at = ${f.createdAt},
           gd_updated_at = ${f.updatedAt},
           raw = CASE WHEN ${keepSeverity} THEN jsonb_set(${raw}::jsonb, '{severity}', to_jsonb(severity)) ELSE ${raw}::jsonb END,
           last_seen_at = now()
     WHERE id = ${f.id}`;
}
