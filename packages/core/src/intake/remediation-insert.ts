import { randomUUID } from "node:crypto";
import type { Prisma, RemediationStatus } from "../db/client.js";
import type { ParsedFinding } from "../findings/types.js";
import type { NotifiedRemediation } from "../notify/index.js";
import type { RouteDecision } from "../policy/index.js";
import { jobIdFor } from "../queues/job-ids.js";
import { remediationJobInput } from "../queues/remediation-job.js";
import { detectorIdOf } from "./finding-upsert.js";
import { noticeFinding, type Notice } from "./notices.js";
import type { Pending } from "./pending.js";

type Tx = Prisma.TransactionClient;
type Remediate = Extract<RouteDecision, { action: "remediate" }>;
/** What one remediation needs of a routing decision: the primary one, or an `additional` one. */
type Routed = Pick<Remediate, "playbook" | "mode" | "rule" | "exemption">;

/**
 * Inserts the remediation unless one exists for (finding, playbook, resource) — the unique key is
 * the real guard against a second containment — and, when new, queues its outbox row and audit
 * event. Returns the new remediation, or null when it already existed.
 */
export async function createRemediation(
  tx: Tx,
  finding: ParsedFinding,
  decision: Routed,
  pending: Pending,
  submittedBy: string | undefined,
  resourceKey: string,
): Promise<NotifiedRemediation | null> {
  const created = await insertRemediation(tx, finding, decision, "queued", null, resourceKey);
  if (created === null) return null;
  // Validated by the relay, row by row, not here: a payload that failed would fail the whole batch.
  const payload = remediationJobInput(created, "contain");
  pending.outbox.push({ remediationId: created.id, queue: decision.playbook, jobId: created.jobId, payload });
  pending.audit.push({
    actor: "ingest",
    action: "remediation.queued",
    findingId: finding.id,
    remediationId: created.id,
    // submittedBy: the token whose submission queued this (null from SQS), for four-eyes checks.
    detail: {
      playbook: decision.playbook,
      mode: decision.mode,
      rule: decision.rule,
      resourceKey: created.resourceKey,
      jobId: created.jobId,
      submittedBy: submittedBy ?? null,
      ...(decision.exemption ? { exemption: decision.exemption.message } : {}),
    },
  });
  return created;
}

/**
 * A true conflict: this version would act, and names another resource than a version already
 * acted on. We cannot tell which of the two is forged, so neither is dropped: this one's
 * remediation is recorded as `escalated` (no job: nothing runs until a person retries it), with
 * the reason and the conflicting version in its audit event, and people are told. The stored
 * finding and the remediation already under way are left as they are: the worker confirms a
 * finding with GuardDuty before changing anything, which is where a forged first version stops.
 * Returns the notice, or null when this resource's remediation was recorded already (a replay).
 *
 * A conflict on the same resource (the same instance id claimed for another account or region, or
 * another type or detector) cannot get a remediation of its own: the unique key is (finding,
 * playbook, resource). It is still recorded (a `finding.conflict_escalated` audit event holding
 * the version) and people are told, once per conflicting identity, so it is never dropped silently.
 */
export async function escalateConflict(tx: Tx, finding: ParsedFinding, decision: Remediate, conflict: string, pending: Pending): Promise<Notice | null> {
  const reason = `version conflict: ${conflict}; a person must decide which version is real`;
  const created = await insertRemediation(tx, finding, decision, "escalated", reason, finding.resourceKey);
  if (created === null) return escalateWithoutRemediation(tx, finding, decision, reason, pending);
  pending.audit.push({
    actor: "ingest",
    action: "remediation.escalated",
    findingId: finding.id,
    remediationId: created.id,
    detail: {
      reason: "version_conflict",
      message: reason,
      playbook: decision.playbook,
      mode: decision.mode,
      rule: decision.rule,
      resourceKey: created.resourceKey,
      version: versionOf(finding),
    },
  });
  return {
    kind: "escalated",
    finding: noticeFinding(finding),
    remediation: created,
    detail: reason,
  };
}

async function escalateWithoutRemediation(tx: Tx, finding: ParsedFinding, decision: Remediate, reason: string, pending: Pending): Promise<Notice | null> {
  const resourceKey = finding.resourceKey ?? "";
  const holder = await tx.remediation.findUnique({
    where: { findingId_playbook_resourceKey: { findingId: finding.id, playbook: decision.playbook, resourceKey } },
    select: { id: true, accountId: true, region: true },
  });
  if (!holder) return null;
  if (holder.accountId === finding.accountId && holder.region === finding.region) {
    // The remediation holding this resource was itself escalated for a conflict: this is that
    // conflicting version again (a replay), recorded and told already.
    const escalatedBefore = await tx.auditEvent.count({ where: { remediationId: holder.id, action: "remediation.escalated" } });
    if (escalatedBefore > 0) return null;
  }
  // What this version claims that the acted one does not; one notice per distinct claim.
  const identity = [finding.accountId, finding.region, finding.type, detectorIdOf(finding) ?? "-"].join("/");
  const told = await tx.auditEvent.count({
    where: { findingId: finding.id, action: "finding.conflict_escalated", detail: { path: ["identity"], equals: identity } },
  });
  if (told > 0) return null;
  const message = `${reason}; remediation ${holder.id} holds ${resourceKey} for account ${holder.accountId} in ${holder.region}, so none could be recorded for this version (${identity}): act by hand if GuardDuty confirms it`;
  pending.audit.push({
    actor: "ingest",
    action: "finding.conflict_escalated",
    findingId: finding.id,
    remediationId: null,
    detail: {
      reason: "version_conflict",
      message,
      identity,
      accountId: finding.accountId,
      region: finding.region,
      playbook: decision.playbook,
      resourceKey,
      heldBy: holder.id,
      version: versionOf(finding),
    },
  });
  return {
    kind: "escalated",
    finding: noticeFinding(finding),
    remediation: null,
    detail: message,
  };
}

/** A conflicting version, kept whole in its audit event: it is not what the findings row holds. */
function versionOf(finding: ParsedFinding): Prisma.InputJsonObject {
  return { count: finding.count, updatedAt: finding.updatedAt.toISOString(), detail: finding.detail as Prisma.InputJsonObject };
}

interface Inserted extends NotifiedRemediation {
  jobId: string;
}

async function insertRemediation(
  tx: Tx,
  finding: ParsedFinding,
  decision: Routed,
  status: Extract<RemediationStatus, "queued" | "escalated">,
  error: string | null,
  resourceKey: string | null,
): Promise<Inserted | null> {
  if (resourceKey === null) throw new Error(`finding ${finding.id} routed to a playbook without a resource key`);
  const id = randomUUID();
  const jobId = jobIdFor(decision.playbook, finding.id, resourceKey);
  const inserted = await tx.$queryRaw<{ id: string }[]>`
    INSERT INTO remediations (id, finding_id, playbook, resource_key, account_id, region, mode, status, rule_name, job_id, error, updated_at)
    VALUES (${id}::uuid, ${finding.id}, ${decision.playbook}, ${resourceKey}, ${finding.accountId}, ${finding.region},
            ${decision.mode}::"RemediationMode", ${status}::"RemediationStatus", ${decision.rule}, ${jobId}, ${error}, now())
    ON CONFLICT (finding_id, playbook, resource_key) DO NOTHING
    RETURNING id::text AS id`;
  if (inserted.length === 0) return null;
  return { id, jobId, findingId: finding.id, playbook: decision.playbook, resourceKey, accountId: finding.accountId, region: finding.region, mode: decision.mode };
}
