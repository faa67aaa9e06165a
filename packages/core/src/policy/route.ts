/**
 * Decides what happens to a parsed finding: which playbook runs in which mode, or why nothing
 * runs. Pure: the same finding and policy always give the same decision.
 */
import type { IgnoreReason } from "../findings/reasons.js";
import type { ParsedFinding, SupportedResourceType } from "../findings/types.js";
import { DEFAULT_PLAYBOOK, type PlaybookName, type PolicyMode, type RemediationMode } from "../queues/playbooks.js";
import { accountRefusal } from "./accounts.js";
import { exemptResourceOf, notifiesExemption, type Exemption } from "./exempt.js";
import { globMatch } from "./glob.js";
import { DEFAULT_RULE_NAME, type Policy, type RuleMatch } from "./schema.js";
import { severityMatches } from "./severity.js";

/** `exemption`: set when an exemption applied (see exempt.ts); ingest records and notifies it. */
export type RouteDecision =
  | { action: "remediate"; playbook: PlaybookName; mode: RemediationMode; rule: string; exemption?: Exemption }
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
  const decision = routeByRules(finding, policy, resource.type);
  return tagged ? underExemptTag(decision, `${tag.key}=${tag.value}`) : decision;
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
    return { ...decision, mode: "approval", exemption: { by: "tag", notify: true, message } };
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
    return { action: "remediate", playbook: rule.playbook ?? DEFAULT_PLAYBOOK[resourceType], mode: remediationMode(rule.mode), rule: rule.name };
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
    playbook: DEFAULT_PLAYBOOK[resourceType],
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
