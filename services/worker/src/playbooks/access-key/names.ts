// The names this playbook writes into records and into IAM: step names (they key the step rows,
// the plan and containment) and the inline policy a revocation adds to a role.
import { expectId, type IdentifierPattern } from "../kit/index.js";

export const STEP = {
  identify: "identify",
  deactivateKey: "deactivate-key",
  revokeSessions: "revoke-sessions",
  verify: "verify",
  reactivateKey: "reactivate-key",
  removeRevokePolicy: "remove-revoke-policy",
} as const;

/** The remediation's id as the database writes it (a UUID). */
const REMEDIATION_ID: IdentifierPattern = {
  label: "a remediation id (UUID)",
  regex: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
};

/**
 * The inline policy one remediation adds to a role: named after the whole remediation id (63
 * characters), so that two remediations on one role each add, and release, their own, and nothing
 * else is ever touched (a prefix of the id could be shared). IAM inline policy names allow
 * [\w+=,.@-], up to 128 characters.
 */
export function revokePolicyName(remediationId: string): string {
  const id = expectId(REMEDIATION_ID, remediationId, "the remediation id");
  return `${REVOKE_POLICY_PREFIX}${id}`;
}

/** What every revocation policy of this service is named with: how release finds the others on a role. */
export const REVOKE_POLICY_PREFIX = "guardduty-responder-revoke-";

/**
 * The lock two remediations take before writing one role's inline policies (PutRolePolicy,
 * DeleteRolePolicy), so that they never write it at once. IAM role names are unique
 * case-insensitively: the name is lower-cased so that both spellings take one lock.
 */
export function roleLockName(accountId: string, roleName: string): string {
  return `iam-role:${accountId}:${roleName.toLowerCase()}`;
}
