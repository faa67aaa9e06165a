// The credentials this playbook does not act on, each with the reason people are told. Nothing is
// guessed at: GuardDuty's guidance for compromised credentials leaves these to a person (rotate
// root's keys signed in as root, change the permissions of the user behind a federation token,
// ...), and a wrong guess here would cut off the wrong principal.
import { EscalateRemediation } from "../kit/index.js";

/**
 * The engine records and notifies the reason as people read it (`escalated: identify: <reason>`):
 * a stable code first, for searching and tests, then the sentence that says what to do.
 */
function stop(code: string, sentence: string): EscalateRemediation {
  const reason = `${code}: ${sentence}`;
  return new EscalateRemediation(reason, reason);
}

export function rootCredentials(accessKeyId: string | null): EscalateRemediation {
  return stop(
    "root_credentials",
    `the credentials${accessKeyId ? ` (${accessKeyId})` : ""} are the account root user's: no IAM policy restricts root, and root's ` +
      "access keys are managed only when signed in as root. A person must sign in as root, deactivate or delete the key, and rotate the root password and MFA",
  );
}

export function federatedUser(principalId: string | null): EscalateRemediation {
  return stop(
    "federated_user",
    `the credentials are a federated user's session${principalId ? ` (${principalId})` : ""}, issued by GetFederationToken: they have no key ` +
      "to deactivate and no role to revoke. A person must remove the permissions of the IAM user that issued them (or deny it with an aws:TokenIssueTime condition)",
  );
}

export function userSessionToken(accessKeyId: string, userName: string | null): EscalateRemediation {
  return stop(
    "user_session_token",
    `${accessKeyId} is a temporary key of IAM user ${userName ?? "(unnamed)"} (GetSessionToken): it cannot be deactivated and stays valid ` +
      "until it expires. A person can end it with a deny-all policy on the user conditioned on aws:TokenIssueTime before now: that denies " +
      "the user's session tokens issued before then, while requests signed with the user's long-term access keys carry no token issue time and are not affected. " +
      "The user's long-term keys are the likely source (GetSessionToken is called with one) and must be deactivated too, or the attacker gets new tokens",
  );
}

export function unsupportedPrincipal(userType: string | null, accessKeyId: string | null): EscalateRemediation {
  return stop(
    "unsupported_principal",
    `GuardDuty names credentials of user type ${userType ?? "(none)"}${accessKeyId ? ` (${accessKeyId})` : ""}: this playbook acts only on an IAM ` +
      "user's long-term key (IAMUser, AKIA…) or an assumed role's sessions (AssumedRole, ASIA…). A person must look at it",
  );
}

export function inconsistent(detail: string): EscalateRemediation {
  return stop("inconsistent_finding", `the finding's access key details do not fit together: ${detail}. Nothing was done`);
}

export function notUsersKey(accessKeyId: string, userName: string): EscalateRemediation {
  return stop(
    "not_users_key",
    `IAM user ${userName} has no access key ${accessKeyId}: the key was deleted, or belongs to another principal. ` +
      "Nothing was done to either; a person must find the key's owner",
  );
}

export function roleReplaced(roleName: string, findingRoleId: string, liveRoleId: string): EscalateRemediation {
  return stop(
    "role_replaced",
    `role ${roleName} is now ${liveRoleId}, but the finding's session belongs to ${findingRoleId}: the role was deleted and created ` +
      "again. Revoking the new role's sessions would hit principals the finding does not name; a person must decide",
  );
}

export function serviceLinkedRole(roleName: string): EscalateRemediation {
  return stop(
    "service_linked_role",
    `role ${roleName} is a service-linked role: IAM cannot revoke its sessions (IAM User Guide, revoking role sessions). A person must look at it`,
  );
}

export function policyNameTaken(roleName: string, policyName: string): EscalateRemediation {
  return stop("policy_name_taken", `role ${roleName} already has an inline policy ${policyName} that this service did not write; nothing was overwritten`);
}

export function policyNotOurs(roleName: string, policyName: string): EscalateRemediation {
  return stop("policy_not_ours", `role ${roleName}'s policy ${policyName} is not the revocation this service wrote; it was left in place`);
}

export function responderRole(roleName: string): EscalateRemediation {
  return stop(
    "responder_credentials",
    `role ${roleName} is the role this service acts through: revoking its sessions would end the responder's own and lock out the release. ` +
      "A person must revoke them (IAM console, Revoke active sessions) and check the role's trust policy",
  );
}

/**
 * identify runs before the gate asks GuardDuty for its own copy of the finding: a user or role
 * that IAM does not know may have been named by a forged message reusing a real finding's id, and
 * skipping would end that real finding's remediation silently. Said, and notified, instead.
 */
export function principalNotFound(principal: string): EscalateRemediation {
  return stop(
    "principal_not_found",
    `${principal} named by the finding was not found in IAM: it was deleted, or the finding names a principal that never existed. ` +
      "Nothing was done; a person must check the finding against GuardDuty's own copy and find the credentials' owner",
  );
}

/**
 * IAM Identity Center's roles (AWSReservedSSO_*, path /aws-reserved/sso.amazonaws.com/) are
 * managed by Identity Center: IAM answers UnmodifiableEntity to any change, and AWS's guidance is
 * to revoke the user's sessions in IAM Identity Center.
 */
export function identityCenterRole(roleName: string, path: string): EscalateRemediation {
  return stop(
    "identity_center_role",
    `role ${roleName} (path ${path}) is reserved by AWS (IAM Identity Center's permission set roles live under /aws-reserved/): IAM cannot ` +
      "change it, so its sessions cannot be revoked here. A person must revoke the user's active sessions in IAM Identity Center " +
      "(and remove or change the permission set assignment)",
  );
}

/** IAM answered UnmodifiableEntity to a change of the role (a role AWS manages). */
export function unmodifiableRole(roleName: string, operation: string, message: string): EscalateRemediation {
  return stop(
    "unmodifiable_role",
    `IAM refuses to change role ${roleName} (UnmodifiableEntity on ${operation}: ${message}): AWS manages the role. Nothing was changed; ` +
      "a person must revoke the sessions where the role is managed (for IAM Identity Center: revoke the user's sessions there)",
  );
}

/** IAM answered LimitExceeded to PutRolePolicy: the role's inline policies are at their size quota. */
export function rolePoliciesFull(roleName: string, message: string): EscalateRemediation {
  return stop(
    "role_policies_full",
    `role ${roleName}'s inline policies are full (LimitExceeded on PutRolePolicy: ${message}): the revocation could not be added and ` +
      "nothing was changed. A person must revoke the sessions (IAM console, Revoke active sessions, after making room) or attach a managed deny policy",
  );
}
