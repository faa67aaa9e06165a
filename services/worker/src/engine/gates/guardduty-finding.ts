// Compares the finding this service stored (from the queue, which anyone allowed to send to it can
// write) with the finding GuardDuty itself holds under that id. Both are parsed by the same code
// ingest uses (packages/core/src/findings), so "the same resource" means the same resource type
// and the same resource key that the remediation acts on.
import type { Finding } from "@aws-sdk/client-guardduty";
import { FindingRejection } from "@gdr/core/findings/errors";
import { parseFinding } from "@gdr/core/findings/finding";
import type { ParsedFinding } from "@gdr/core/findings/index";
import { targetKeyOf } from "@gdr/core/findings/targets";
import { PLAYBOOKS, type PlaybookName } from "@gdr/core/queues/playbooks";
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
 * What differs between GuardDuty's copy of the finding and what this remediation would act on.
 * GuardDuty is the judge of identity: its account, region and resource must be the
 * remediation's. Type and severity (which chose the mode) are held against the stored version when
 * that version is the one this remediation was made from. A remediation made from a conflicting
 * version (ingest escalated it: the stored finding names another resource) is judged on identity
 * alone, so that a person who retries it after looking can have the real resource contained when
 * GuardDuty names it, instead of it being escalated again against the version it conflicts with.
 * Severity: the stored one may not exceed GuardDuty's (an inflated one could buy automatic
 * containment); GuardDuty rating it higher, a version not received yet, is no reason to stop.
 */
export function mismatches(stored: ParsedFinding, remediation: RemediationRef, guardduty: ParsedFinding): string[] {
  const out: string[] = [];
  if (guardduty.id !== stored.id) out.push(`GuardDuty answered for finding ${guardduty.id}, not ${stored.id}`);
  if (guardduty.accountId !== remediation.accountId) out.push(`account: GuardDuty says ${guardduty.accountId}, the remediation acts in ${remediation.accountId}`);
  if (guardduty.region !== remediation.region) out.push(`region: GuardDuty says ${guardduty.region}, the remediation acts in ${remediation.region}`);
  const expected = expectedKey(remediation);
  const named = namedKey(guardduty, expected.playbook);
  if (named !== expected.key) {
    out.push(`resource: GuardDuty names ${named ?? "no resource"}, the remediation acts on ${expected.key}${expected.via}`);
  }
  const fromStored = stored.accountId === remediation.accountId && stored.region === remediation.region && namedKey(stored, expected.playbook) === expected.key;
  if (!fromStored) return out;
  if (guardduty.type !== stored.type) out.push(`type: GuardDuty says ${guardduty.type}, the stored finding ${stored.type}`);
  if (guardduty.resourceType !== stored.resourceType) {
    out.push(`resource type: GuardDuty says ${guardduty.resourceType}, the stored finding ${stored.resourceType}`);
  }
  if (stored.severity > guardduty.severity + SEVERITY_EPSILON) {
    out.push(`severity: the stored finding says ${stored.severity}, more than GuardDuty's ${guardduty.severity}`);
  }
  out.push(...principalMismatches(stored, guardduty));
  if (remediation.playbook === "container-image") out.push(...imageOriginMismatches(stored, guardduty));
  return out;
}

/**
 * What GuardDuty's finding must name for this remediation: its own resource in its playbook's
 * terms (the image, for an image remediation), or, for a remediation another playbook started
 * (a task's host), the parent's resource, which is what the finding is about.
 */
function expectedKey(remediation: RemediationRef): { playbook: PlaybookName | null; key: string; via: string } {
  const parent = remediation.parent;
  if (parent) return { playbook: playbookName(parent.playbook), key: parent.resourceKey, via: ` (through remediation ${parent.id}, which started this one)` };
  return { playbook: playbookName(remediation.playbook), key: remediation.resourceKey, via: "" };
}

function playbookName(name: string): PlaybookName | null {
  return (PLAYBOOKS as readonly string[]).includes(name) ? (name as PlaybookName) : null;
}

/** The key a finding gives the playbook, null when it gives none (an image it cannot single out). */
function namedKey(f: ParsedFinding, playbook: PlaybookName | null): string | null {
  if (playbook === null) return f.resourceKey;
  const target = targetKeyOf(f, playbook);
  return target.ok ? target.key : null;
}

/**
 * The policy sends a finding to the image playbook when the file came with the image (no modifying
 * process): a forged copy that drops the modifying process must not buy an image's deletion.
 */
function imageOriginMismatches(stored: ParsedFinding, guardduty: ParsedFinding): string[] {
  const ours = stored.runtime?.modifyingProcess;
  const theirs = guardduty.runtime?.modifyingProcess;
  if (ours === theirs) return [];
  const say = (v: boolean | undefined): string => (v === undefined ? "no runtime details" : v ? "a modifying process" : "no modifying process");
  return [`runtime context: GuardDuty names ${say(theirs)}, the stored finding ${say(ours)}`];
}

/** The members of resource.accessKeyDetails the Credentials playbook reads to find whom it acts on. */
const ACCESS_KEY_DETAILS = ["accessKeyId", "principalId", "userName", "userType"] as const;

/**
 * For AccessKey findings the resource key is only the key id, but the Credentials playbook acts on
 * the principal the stored finding names (userName, principalId, userType): a forged message that
 * reuses a real finding's id and key while naming another role would otherwise revoke that role.
 * Every member is compared, absent ones included. (Instance findings need no such check: the
 * Instance playbook acts on the instance id alone, which is the resource key.)
 */
function principalMismatches(stored: ParsedFinding, guardduty: ParsedFinding): string[] {
  if (stored.resource.type !== "AccessKey" || guardduty.resource.type !== "AccessKey") return [];
  const ours = stored.resource;
  const theirs = guardduty.resource;
  return ACCESS_KEY_DETAILS.filter((k) => ours[k] !== theirs[k]).map(
    (k) => `principal: GuardDuty names ${k} ${theirs[k] ?? "(none)"}, the stored finding ${ours[k] ?? "(none)"}`,
  );
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
