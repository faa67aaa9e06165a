/**
 * Decides what happens to a parsed finding: which playbook runs in which mode, or why nothing
 * runs. Pure: the same finding and policy always give the same decision.
 */
import type { IgnoreReason } from "../findings/reasons.js";
import type { ParsedFinding } from "../findings/types.js";
import { DEFAULT_PLAYBOOK, type PlaybookName, type PolicyMode, type RemediationMode } from "../queues/playbooks.js";
import { globMatch } from "./glob.js";
import { DEFAULT_RULE_NAME, type Policy, type RuleMatch } from "./schema.js";
import { severityMatches } from "./severity.js";

export type RouteDecision =
  | { action: "remediate"; playbook: PlaybookName; mode: RemediationMode; rule: string }
  | { action: "ignore"; reason: IgnoreReason; message: string; rule?: string };

/**
 * Order matters and is part of the contract: archived, sample, account allow list, unsupported
 * resource type, exempt tag, then the rules (first match wins), then `defaults`.
 */
export function route(finding: ParsedFinding, policy: Policy): RouteDecision {
  if (finding.archived) return { action: "ignore", reason: "archived", message: "the finding is archived" };
  if (finding.sample) {
    return { action: "ignore", reason: "sample_finding", message: "GuardDuty sample finding (additionalInfo.sample is true)" };
  }
  if (!policy.accounts.allow.includes("*") && !policy.accounts.allow.includes(finding.accountId)) {
    return {
      action: "ignore",
      reason: "account_not_allowed",
      message: `account ${finding.accountId} is not in the policy's accounts.allow`,
    };
  }
  const resource = finding.resource;
  if (resource.type === "Other") {
    return {
      action: "ignore",
      reason: "unsupported_resource_type",
      message: `no playbook handles resource type ${resource.resourceType}`,
    };
  }
  const exempt = policy.exemptTag;
  if (finding.tags.some((tag) => tag.key === exempt.key && tag.value === exempt.value)) {
    return { action: "ignore", reason: "exempt_tag", message: `the resource is tagged ${exempt.key}=${exempt.value}` };
  }

  const rule = policy.rules.find((candidate) => matches(candidate.match, finding, resource.type));
  if (rule !== undefined) {
    if (rule.mode === "ignore") {
      return { action: "ignore", reason: "policy_ignore", message: `rule ${rule.name} sets mode ignore`, rule: rule.name };
    }
    return { action: "remediate", playbook: rule.playbook ?? DEFAULT_PLAYBOOK[resource.type], mode: remediationMode(rule.mode), rule: rule.name };
  }
  if (policy.defaults.mode === "ignore") {
    return {
      action: "ignore",
      reason: "no_matching_rule",
      message: "no rule matched and defaults.mode is ignore",
      rule: DEFAULT_RULE_NAME,
    };
  }
  return {
    action: "remediate",
    playbook: DEFAULT_PLAYBOOK[resource.type],
    mode: remediationMode(policy.defaults.mode),
    rule: DEFAULT_RULE_NAME,
  };
}

function matches(match: RuleMatch, finding: ParsedFinding, resourceType: string): boolean {
  return (
    (match.types === undefined || match.types.some((pattern) => globMatch(pattern, finding.type))) &&
    (match.severity === undefined || severityMatches(finding.severity, match.severity)) &&
    (match.resourceTypes === undefined || match.resourceTypes.some((type) => type === resourceType)) &&
    (match.accounts === undefined || match.accounts.some((account) => account === "*" || account === finding.accountId))
  );
}

/** The policy file says `dry-run`; the store and the worker say `dry_run`. */
function remediationMode(mode: Exclude<PolicyMode, "ignore">): RemediationMode {
  return mode === "dry-run" ? "dry_run" : mode;
}
