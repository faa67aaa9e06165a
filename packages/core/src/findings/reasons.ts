/**
 * The closed set of reasons a message can be ignored or rejected for. They become metric labels
 * and API filters, so the set is fixed here and nowhere else.
 */
export const REJECT_REASONS = [
  "body_too_large",
  "not_json",
  // Valid JSON that readers would disagree on: a key occurs twice in one object (see json-scan.ts).
  "invalid_json",
  "too_deep",
  "hostile_key",
  "invalid_characters",
  "invalid_envelope",
  "invalid_sns_notification",
  "invalid_finding",
  "invalid_identifier",
  "account_mismatch",
  // A newer version of a known finding id that names another account, region or resource:
  // GuardDuty never does that, so it is treated as forged rather than allowed to redirect action.
  "conflicting_update",
] as const;

export const IGNORE_REASONS = [
  "not_guardduty_event",
  "sns_subscription_message",
  "archived",
  "sample_finding",
  "account_not_allowed",
  "exempt_tag",
  // The policy's exempt.resources names the resource (by id or ARN, which the workload cannot change).
  "exempt_resource",
  "unsupported_resource_type",
  "policy_ignore",
  "no_matching_rule",
  // The playbook a rule chose cannot tell what to act on (an image rule on a task that runs
  // several images, and the finding does not say which one carried the file).
  "no_target",
] as const;

export const ACCEPT_REASONS = [
  "new_finding",
  "finding_updated",
  // This version acts, and replaced a stored version that had produced no remediation (ignored,
  // e.g. an unsupported resource type or a sample), whatever their order (finding-upsert.ts).
  "finding_replaced",
  // This version acts and names another resource than a version already acted on: a true
  // conflict. Its remediation is recorded as escalated (nothing runs) and people are told.
  "conflict_escalated",
] as const;
export const DUPLICATE_REASONS = ["same_version", "older_version"] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];
export type IgnoreReason = (typeof IGNORE_REASONS)[number];
export type AcceptReason = (typeof ACCEPT_REASONS)[number];
export type DuplicateReason = (typeof DUPLICATE_REASONS)[number];
export type ReceiptReason = RejectReason | IgnoreReason | AcceptReason | DuplicateReason;
