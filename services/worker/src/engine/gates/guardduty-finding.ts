// Compares the finding this service stored (from the queue, which anyone allowed to send to it can
// write) with the finding GuardDuty itself holds under that id. Both are parsed by the same code
// ingest uses (packages/core/src/findings), so "the same resource" means the same resource type
// and the same resource key that the remediation acts on.
import type { Finding } from "@aws-sdk/client-guardduty";
import { FindingRejection } from "@gdr/core/findings/errors";
import { parseFinding } from "@gdr/core/findings/finding";
import type { ParsedFinding } from "@gdr/core/findings/index";
import type { Json, RemediationRef } from "../step.js";

/** What GuardDuty says, as recorded in the confirm-finding step's output. */
export interface GuardDutyView {
  accountId: string;
  region: string;
  type: string;
  severity: number;
  resourceType: string;
  resourceKey: string | null;
  archived: boolean;
  updatedAt: string;
}

/**
 * The SDK returns GetFindings' findings with PascalCase members (`Resource.InstanceDetails
 * .InstanceId`); the EventBridge event that ingest parses carries the same document in GuardDuty's
 * own camelCase (`resource.instanceDetails.instanceId`). Lower-casing the first letter of every
 * key turns one into the other, so the ingest parser can read GuardDuty's copy. Values (tag keys
 * and values among them) are left as they are.
 */
export function sdkFindingToDetail(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sdkFindingToDetail);
  if (value instanceof Date) return value.toISOString();
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (inner === undefined) continue;
    out[key.charAt(0).toLowerCase() + key.slice(1)] = sdkFindingToDetail(inner);
  }
  return out;
}

/** GuardDuty's finding parsed like ingest parses a message, or why it cannot be. */
export function parseGuardDutyFinding(finding: Finding): { ok: true; finding: ParsedFinding } | { ok: false; problem: string } {
  try {
    return { ok: true, finding: parseFinding(sdkFindingToDetail(finding) as Record<string, unknown>, "eventbridge") };
  } catch (err) {
    if (err instanceof FindingRejection) return { ok: false, problem: `GuardDuty's copy of the finding does not parse: ${err.message}` };
    throw err;
  }
}

export function viewOf(f: ParsedFinding): GuardDutyView {
  return {
    accountId: f.accountId,
    region: f.region,
    type: f.type,
    severity: f.severity,
    resourceType: f.resourceType,
    resourceKey: f.resourceKey,
    archived: f.archived,
    updatedAt: f.updatedAt.toISOString(),
  };
}

// Severities are GuardDuty's numbers with one decimal; the store keeps them as Decimal(3,1).
const SEVERITY_EPSILON = 1e-6;

/**
 * Every way the stored finding (and the remediation built from it) differs from GuardDuty's:
 * empty when they agree. Severity: the stored one may not exceed GuardDuty's. A forged message
 * that inflates severity could push a finding into automatic containment; one that GuardDuty
 * itself rates higher (a later version we have not received yet) only made this service more
 * careful than it needed to be, so that is no reason to stop.
 */
export function mismatches(stored: ParsedFinding, remediation: RemediationRef, guardduty: ParsedFinding): string[] {
  const out: string[] = [];
  if (guardduty.id !== stored.id) out.push(`GuardDuty answered for finding ${guardduty.id}, not ${stored.id}`);
  if (guardduty.accountId !== stored.accountId || guardduty.accountId !== remediation.accountId) {
    out.push(`account: GuardDuty says ${guardduty.accountId}, the stored finding ${stored.accountId}, the remediation ${remediation.accountId}`);
  }
  if (guardduty.region !== stored.region || guardduty.region !== remediation.region) {
    out.push(`region: GuardDuty says ${guardduty.region}, the stored finding ${stored.region}, the remediation ${remediation.region}`);
  }
  if (guardduty.type !== stored.type) out.push(`type: GuardDuty says ${guardduty.type}, the stored finding ${stored.type}`);
  if (guardduty.resourceType !== stored.resourceType) {
    out.push(`resource type: GuardDuty says ${guardduty.resourceType}, the stored finding ${stored.resourceType}`);
  }
  if (guardduty.resourceKey !== stored.resourceKey || guardduty.resourceKey !== remediation.resourceKey) {
    out.push(
      `resource: GuardDuty names ${guardduty.resourceKey ?? "no resource"}, the stored finding ${stored.resourceKey ?? "none"}, the remediation acts on ${remediation.resourceKey}`,
    );
  }
  if (stored.severity > guardduty.severity + SEVERITY_EPSILON) {
    out.push(`severity: the stored finding says ${stored.severity}, more than GuardDuty's ${guardduty.severity}`);
  }
  return out;
}

/** The stored finding (`findings.raw`, the event's detail as received) parsed again. */
export function parseStoredFinding(raw: { [key: string]: Json }): { ok: true; finding: ParsedFinding } | { ok: false; problem: string } {
  try {
    return { ok: true, finding: parseFinding(raw, "eventbridge") };
  } catch (err) {
    if (err instanceof FindingRejection) return { ok: false, problem: `the stored finding does not parse: ${err.message}` };
    throw err;
  }
}
