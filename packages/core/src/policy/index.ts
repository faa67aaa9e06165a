export { accountRefusal } from "./accounts.js";
export { PLAYBOOK_RESOURCE_TYPES, playbookFits } from "./compat.js";
export { PolicyError } from "./errors.js";
export {
  EXEMPT_NOTIFY_FROM,
  EXEMPT_RESOURCE_PATTERNS,
  exemptableIdentifiers,
  exemptInstance,
  exemptResourceOf,
  isExemptResourceId,
  notifiesExemption,
  type Exemption,
} from "./exempt.js";
export { globMatch } from "./glob.js";
export { loadPolicyFile, MAX_POLICY_BYTES, parsePolicy } from "./load.js";
export { route, type AdditionalDecision, type RouteDecision, type UnresolvedAdditional } from "./route.js";
export {
  DEFAULT_APPROVAL,
  DEFAULT_EXEMPT_TAG,
  DEFAULT_RULE_NAME,
  ON_EXPIRY,
  PolicySchema,
  type OnExpiry,
  type Policy,
  type PolicyRule,
  type RuleMatch,
} from "./schema.js";
export { bandOf, BAND_FLOOR, SEVERITY_BANDS, type SeverityBand } from "./severity.js";
