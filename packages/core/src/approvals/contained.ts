import { Prisma } from "@prisma/client";

/**
 * Whether the remediation `r` is contained, as SQL (a boolean expression over `remediations r`):
 * release eligibility (decide.ts requestRelease) and the reconciler's choice of the evidence job
 * both read it, so they agree with the worker engine's isContained (engine/containment.ts).
 *
 * `contained_at` is the record. The rest is a fallback for a rolling deploy: the migration
 * backfilled `contained_at` once, and a worker of the release before it, still running after the
 * migration, isolates an instance without setting it; if that remediation then fails (a later step
 * refused), only the fallback keeps it releasable instead of stuck isolated. Its test is the
 * backfill's own: an Instance remediation not in dry-run mode whose `isolate` step is done with an
 * effect (succeeded or skipped, not an escalation, and not a dry run's record).
 * Remove the fallback once no worker older than the `contained_at` migration can run, i.e. one
 * release after it, when every remediation isolated by an old worker has contained_at from a
 * second backfill (or has ended).
 */
export const CONTAINED_SQL = `(r.contained_at IS NOT NULL OR (
  r.playbook = 'instance' AND r.mode <> 'dry_run' AND EXISTS (
    SELECT 1 FROM remediation_steps cs
     WHERE cs.remediation_id = r.id AND cs.name = 'isolate' AND cs.status IN ('succeeded', 'skipped')
       AND (cs.output IS NULL OR (cs.output->>'dryRun' IS NULL AND NOT (cs.status = 'skipped' AND cs.output ? 'escalated'))))))`;

/** CONTAINED_SQL for a tagged query (`${containedSql}`): the constant text, never input. */
export const containedSql = Prisma.raw(CONTAINED_SQL);

/** Whether remediation `id` is contained (CONTAINED_SQL); false for no such remediation. */
export async function isRemediationContained(db: Pick<Prisma.TransactionClient, "$queryRaw">, id: string): Promise<boolean> {
  const rows = await db.$queryRaw<{ contained: boolean }[]>`SELECT ${containedSql} AS contained FROM remediations r WHERE r.id = ${id}::uuid`;
  return rows[0]?.contained ?? false;
}
