import { remediationJobSchema, type RemediationJob } from "./catalog.js";

/**
 * The fields of a remediation its jobs carry: a Prisma `Remediation` row has them, and raw SQL
 * selects them under these names.
 */
export interface RemediationJobSource {
  id: string;
  findingId: string;
  playbook: string;
  mode: string;
  accountId: string;
  region: string;
  resourceKey: string;
}

/**
 * The one mapping from a remediation to the payload of a job that carries one of its actions,
 * validated by the catalog's schema (the worker validates it again on pickup): a row whose
 * identifiers no longer pass fails here, before anything is queued.
 */
export function remediationJob(r: RemediationJobSource, action: RemediationJob["action"]): RemediationJob {
  return remediationJobSchema.parse(remediationJobInput(r, action));
}

/**
 * The same payload before validation, for a producer that must not fail on it: ingest writes it
 * to the outbox in the transaction that records a whole batch, and the relay validates each row
 * on its own (a row that fails is set aside, the rest of the batch goes on).
 */
export function remediationJobInput(r: RemediationJobSource, action: RemediationJob["action"]): Record<keyof RemediationJob, string> {
  return {
    remediationId: r.id,
    findingId: r.findingId,
    playbook: r.playbook,
    mode: r.mode,
    accountId: r.accountId,
    region: r.region,
    resourceKey: r.resourceKey,
    action,
  };
}
