/**
 * Decides what happens to a parsed finding: which playbook runs in which mode, or why nothing
 * runs. Pure: the same finding and policy always give the same decision.
 */
import type { IgnoreReason } from "../findings/reasons.js";
import { targetKeyOf } from "../findings/targets.js";
import type { ParsedFinding, SupportedResourceType } from "../findings/types.js";
import { DEFAULT_PLAYBOOK, type PlaybookName, type PolicyMode, type RemediationMode } from "../queues/playbooks.js";
import { accountRefusal } from "./accounts.js";
import { exemptResourceOf, notifiesExemption, type Exemption } from "./exempt.js";
import { globMatch } from "./glob.js";
import { DEFAULT_RULE_NAME, type Policy, type RuleMatch } from "./schema.js";
import { severityMatches } from "./severity.js";

/** One more remediation of the finding, beside the one the rules chose (policy `additional`). */
export interface AdditionalDecision {
  playbook: PlaybookName;
  mode: RemediationMode;
  /** The `additional` entry's name. */
  rule: string;
  /** What it acts on (findings/targets.ts): the image for container-image. */
  resourceKey: string;
}

/** An `additional` entry that matched but has nothing it can act on, and why: recorded, told. */
export interface UnresolvedAdditional {
  playbook: PlaybookName;
  rule: string;
  reason: string;
}

/**
 * `exemption`: set when an exemption applied (see exempt.ts); ingest records and notifies it.
 * `additional`: the extra remediations the policy's `additional` entries add (fan-out), in file order.
 */
export type RouteDecision =
  | {
      action: "remediate";
      playbook: PlaybookName;
      mode: RemediationMode;
      rule: string;
      /** What the playbook acts on (findings/targets.ts). */
      resourceKey: string;
      exemption?: Exemption;
      additional: AdditionalDecision[];
      unresolved: UnresolvedAdditional[];
    }
  | { action: "ignore"; reason: IgnoreReason; message: string; rule?: string; exemption?: Exemption };

/**
 * Order matters and is part of the contract: archived, sample, account allow list, unsupported
 * resource type, resources the policy exempts, the exempt tag on a low finding, then the rules
 * (first match wins), then `defaults`; on a medium-or-higher finding the exempt tag turns `auto`
 * into `approval` afterwards (never into nothing).
 */
export function route(finding: ParsedFinding, policy: Policy): RouteDecision {
  if (finding.archived) return { action: "ignore", reason: "archived", message: "the finding is archived" };
  if (finding.sample) {
    return { action: "ignore", reason: "sample_finding", message: "GuardDuty sample finding (additionalInfo.sample is true)" };
  }
  const refusal = accountRefusal(policy, finding.accountId);
  if (refusal) return { action: "ignore", reason: "account_not_allowed", message: refusal };
  const resource = finding.resource;
  if (resource.type === "Other") {
    return {
      action: "ignore",
      reason: "unsupported_resource_type",
      message: `no playbook handles resource type ${resource.resourceType}`,
    };
  }
  const exemptId = exemptResourceOf(finding, policy.exempt.resources);
  if (exemptId !== undefined) {
    const message = `the policy exempts ${exemptId} (exempt.resources)`;
    return { action: "ignore", reason: "exempt_resource", message, exemption: { by: "resource", notify: notifiesExemption(finding), message } };
  }
  const tag = policy.exemptTag;
  const tagged = finding.tags.some((t) => t.key === tag.key && t.value === tag.value);
  if (tagged && !notifiesExemption(finding)) {
    const message = `the resource is tagged ${tag.key}=${tag.value} (honoured for a low-severity finding)`;
    return { action: "ignore", reason: "exempt_tag", message, exemption: { by: "tag", notify: false, message } };
  }
  const decision = withAdditional(routeByRules(finding, policy, resource.type), finding, policy, resource.type);
  return tagged ? underExemptTag(decision, `${tag.key}=${tag.value}`) : decision;
}

/**
 * The `additional` entries whose match fits, for a finding the rules send to a playbook (one the
 * rules ignore gets none). Each runs in its own mode, else the chosen one; an entry naming the
 * playbook the rules chose adds nothing (that remediation exists already).
 */
function withAdditional(decision: RouteDecision, finding: ParsedFinding, policy: Policy, resourceType: SupportedResourceType): RouteDecision {
  if (decision.action === "ignore") return decision;
  const additional: AdditionalDecision[] = [];
  const unresolved: UnresolvedAdditional[] = [];
  for (const entry of policy.additional) {
    if (!matches(entry.match, finding, resourceType)) continue;
    const seen = [decision.playbook, ...additional.map((a) => a.playbook), ...unresolved.map((u) => u.playbook)];
    if (seen.includes(entry.playbook)) continue;
    const target = targetKeyOf(finding, entry.playbook);
    if (!target.ok) {
      unresolved.push({ playbook: entry.playbook, rule: entry.name, reason: target.reason });
      continue;
    }
    const mode = entry.mode === undefined ? decision.mode : remediationMode(entry.mode);
    additional.push({ playbook: entry.playbook, mode, rule: entry.name, resourceKey: target.key });
  }
  return { ...decision, additional, unresolved };
}

/** A decision to run `playbook`, or `no_target` when it cannot tell what to act on. */
function remediate(finding: ParsedFinding, playbook: PlaybookName, mode: RemediationMode, rule: string): RouteDecision {
  const target = targetKeyOf(finding, playbook);
  if (!target.ok) return { action: "ignore", reason: "no_target", message: `${playbook} (rule ${rule}): ${target.reason}`, rule };
  return { action: "remediate", playbook, mode, rule, resourceKey: target.key, additional: [], unresolved: [] };
}

/**
 * A medium-or-higher finding on a resource tagged exempt. The tag comes from the resource, which
 * the compromised workload may control, so it can only ask for a person: automatic containment
 * becomes an approval request; every other decision stands. People are told either way, unless a
 * rule ignores the finding outright (then the rule, not the tag, decided).
 */
function underExemptTag(decision: RouteDecision, tag: string): RouteDecision {
  if (decision.action === "ignore") return decision;
  if (decision.mode === "auto") {
    const message = `the resource is tagged ${tag}, a tag the workload may set itself: automatic containment downgraded to an approval request (rule ${decision.rule})`;
    // The extra remediations of the finding are downgraded alike: the tag asked for a person.
    const additional = decision.additional.map((a) => (a.mode === "auto" ? { ...a, mode: "approval" as const } : a));
    return { ...decision, mode: "approval", additional, exemption: { by: "tag", notify: true, message } };
  }
  const message = `the resource is tagged ${tag}, a tag the workload may set itself: not honoured for a finding of this severity (mode ${decision.mode}, rule ${decision.rule})`;
  return { ...decision, exemption: { by: "tag", notify: true, message } };
}

/** The first matching rule's decision, else the defaults'. */
function routeByRules(finding: ParsedFinding, policy: Policy, resourceType: SupportedResourceType): RouteDecision {
  const rule = policy.rules.find((candidate) => matches(candidate.match, finding, resourceType));
  if (rule !== undefined) {
    if (rule.mode === "ignore") {
      return { action: "ignore", reason: "policy_ignore", message: `rule ${rule.name} sets mode ignore`, rule: rule.name };
    }
    return remediate(finding, rule.playbook ?? DEFAULT_PLAYBOOK[resourceType], remediationMode(rule.mode), rule.name);
  }
  if (policy.defaults.mode === "ignore") {
    return {
      action: "ignore",
      reason: "no_matching_rule",
      message: "no rule matched and defaults.mode is ignore",
      rule: DEFAULT_RULE_NAME,
    };
  }
  return remediate(finding, DEFAULT_PLAYBOOK[resourceType], remediationMode(policy.defaults.mode), DEFAULT_RULE_NAME);
}

function matches(match: RuleMatch, finding: ParsedFinding, resourceType: string): boolean {
  return (
    (match.types === undefined || match.types.some((pattern) => globMatch(pattern, finding.type))) &&
    (match.severity === undefined || severityMatches(finding.severity, match.severity)) &&
    (match.resourceTypes === undefined || match.resourceTypes.some((type) => type === resourceType)) &&
    (match.accounts === undefined || match.accounts.some((account) => account === "*" || account === finding.accountId)) &&
    (match.modifyingProcess === undefined ||
      (finding.runtime !== undefined && finding.runtime.modifyingProcess === (match.modifyingProcess === "present")))
  );
}

/** The policy file says `dry-run`; the store and the worker say `dry_run`. */
function remediationMode(mode: Exclude<PolicyMode, "ignore">): RemediationMode {
  return mode === "dry-run" ? "dry_run" : mode;
}
