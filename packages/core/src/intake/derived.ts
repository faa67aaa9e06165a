// A remediation that a playbook starts, not ingest: the ECS task playbook finds a task on bridge
// or host networking, which shares its EC2 host's network, and the host gets an Instance
// remediation of its own. Same finding, its own row (linked to the one that started it), job,
// plan and approval, and the same dedup key as ingest's: a re-run of the step that started it,
// or two tasks of one finding on one host, start it once.
import { randomUUID } from "node:crypto";
import type { PrismaClient, RemediationMode } from "../db/client.js";
import type { PlaybookName } from "../queues/playbooks.js";
import { jobIdFor } from "../queues/job-ids.js";
import { remediationJobInput } from "../queues/remediation-job.js";

export interface DerivedRemediationRequest {
  playbook: PlaybookName;
  resourceKey: string;
  mode: RemediationMode;
  /** Why, as people read it: kept in the audit event and the new remediation's record. */
  reason: string;
}

export interface DerivedParent {
  id: string;
  findingId: string;
  accountId: string;
  region: string;
}

export interface DerivedRemediation {
  remediationId: string;
  created: boolean;
}

/** Who the audit trail names for a remediation a playbook started. */
export const DERIVED_ACTOR = "worker";

/**
 * Writes the remediation, its outbox row and its audit event in one transaction (the outbox relay,
 * or the caller right after, turns the row into a job). Returns the remediation that holds
 * (finding, playbook, resource), created now or before.
 */
export async function recordDerivedRemediation(
  prisma: Pick<PrismaClient, "$transaction">,
  parent: DerivedParent,
  request: DerivedRemediationRequest,
): Promise<DerivedRemediation> {
  return prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ rule_name: string }[]>`SELECT rule_name FROM remediations WHERE id = ${parent.id}::uuid`;
    const parentRule = rows[0]?.rule_name;
    if (parentRule === undefined) throw new Error(`remediation ${parent.id} does not exist: cannot start a remediation from it`);
    const id = randomUUID();
    const jobId = jobIdFor(request.playbook, parent.findingId, request.resourceKey);
    const inserted = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO remediations (id, finding_id, playbook, resource_key, account_id, region, mode, status, rule_name, job_id, parent_id, updated_at)
      VALUES (${id}::uuid, ${parent.findingId}, ${request.playbook}, ${request.resourceKey}, ${parent.accountId}, ${parent.region},
              ${request.mode}::"RemediationMode", 'queued'::"RemediationStatus", ${parentRule}, ${jobId}, ${parent.id}::uuid, now())
      ON CONFLICT (finding_id, playbook, resource_key) DO NOTHING
      RETURNING id::text AS id`;
    if (inserted.length === 0) {
      const held = await tx.remediation.findUnique({
        where: { findingId_playbook_resourceKey: { findingId: parent.findingId, playbook: request.playbook, resourceKey: request.resourceKey } },
        select: { id: true },
      });
      if (!held) throw new Error(`remediation of ${request.playbook} ${request.resourceKey} neither inserted nor found`);
      return { remediationId: held.id, created: false };
    }
    const source = { id, findingId: parent.findingId, playbook: request.playbook, mode: request.mode, accountId: parent.accountId, region: parent.region, resourceKey: request.resourceKey };
    await tx.outboxEntry.create({ data: { remediationId: id, queue: request.playbook, jobId, payload: remediationJobInput(source, "contain") } });
    await tx.auditEvent.create({
      data: {
        actor: DERIVED_ACTOR,
        action: "remediation.queued",
        findingId: parent.findingId,
        remediationId: id,
        detail: { playbook: request.playbook, mode: request.mode, rule: parentRule, resourceKey: request.resourceKey, jobId, parentId: parent.id, reason: request.reason, submittedBy: null },
      },
    });
    await tx.auditEvent.create({
      data: {
        actor: DERIVED_ACTOR,
        action: "remediation.derived_started",
        findingId: parent.findingId,
        remediationId: parent.id,
        detail: { remediationId: id, playbook: request.playbook, mode: request.mode, resourceKey: request.resourceKey, reason: request.reason },
      },
    });
    return { remediationId: id, created: true };
  });
}
