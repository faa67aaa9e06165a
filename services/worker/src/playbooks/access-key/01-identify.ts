// Step 1: who the credentials belong to, read once before anything changes: an IAM user's
// long-term key (AKIA…) or an assumed role's sessions (ASIA…), confirmed against IAM as it is now
// (the key is one of the named user's keys; the role is the one whose session GuardDuty saw).
// Records the key's status before containment (what release goes back to), its last use and the
// principal's policies as evidence. Anything else escalates with the reason (escalations.ts).
import { GetAccessKeyLastUsedCommand, GetRoleCommand } from "@aws-sdk/client-iam";
import type { Step, StepContext } from "../kit/index.js";
import * as escalate from "./escalations.js";
import { IAM_READ } from "./families.js";
import { isNoSuchEntity } from "./iam-errors.js";
import { accessKeyDetailsOf, isLongTermKey, type AccessKeyDetails } from "./finding-details.js";
import { rolePolicies, userPolicies } from "./iam-lists.js";
import { STEP } from "./names.js";
import { principalOf, principalSchema, type Principal, type RoleSessions, type UserKey } from "./principal.js";
import { revokeEffect } from "./revoke-policy.js";
import { instanceSourceOf } from "./session-source.js";
import { readKey } from "./user-key.js";

async function userKey(ctx: StepContext, accessKeyId: string, userName: string): Promise<UserKey> {
  const key = await readKey(ctx, userName, accessKeyId);
  if (key.found === "no_user") throw escalate.principalNotFound(`IAM user ${userName}`);
  if (key.found === "not_this_users") throw escalate.notUsersKey(accessKeyId, userName);
  const used = await ctx.read("iam", IAM_READ, new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }));
  // The answer names the key's owner as well: a second, independent check of ownership.
  if (used.UserName !== undefined && used.UserName !== userName) throw escalate.notUsersKey(accessKeyId, userName);
  const last = used.AccessKeyLastUsed;
  return {
    kind: "user-key",
    accessKeyId,
    userName,
    statusBefore: key.status,
    lastUsed: {
      date: last?.LastUsedDate?.toISOString() ?? null,
      serviceName: last?.ServiceName ?? null,
      region: last?.Region ?? null,
    },
    policies: await userPolicies(ctx, userName),
  };
}

export interface IdentifyOptions {
  /**
   * The role this service acts through in every account (the worker's WORKER_ROLE_NAME): revoking
   * its sessions would end the responder's own, mid-remediation, and lock out the release.
   */
  responderRoleName?: string | undefined;
}

/** IAM role names are unique case-insensitively: "Responder" and "responder" are one role. */
function isResponderRole(roleName: string, options: IdentifyOptions): boolean {
  const own = options.responderRoleName;
  return own !== undefined && own !== "" && own.toLowerCase() === roleName.toLowerCase();
}

async function roleSessions(ctx: StepContext, d: AccessKeyDetails, accessKeyId: string, options: IdentifyOptions): Promise<RoleSessions> {
  // GuardDuty names an assumed role's session by the role's name (userName) and its principal id,
  // `<role id AROA…>:<session name>`.
  const roleName = d.userName;
  if (roleName === null) throw escalate.inconsistent("an AssumedRole without the role's name (userName)");
  if (isResponderRole(roleName, options)) throw escalate.responderRole(roleName);
  const [roleId, sessionName] = (d.principalId ?? "").split(":", 2);
  if (!roleId?.startsWith("AROA")) throw escalate.inconsistent(`an AssumedRole whose principal id is not a role's (AROA…:session): ${d.principalId ?? "(none)"}`);
  let role;
  try {
    role = (await ctx.read("iam", IAM_READ, new GetRoleCommand({ RoleName: roleName }))).Role;
  } catch (err) {
    // identify runs before GuardDuty confirms the finding: a name IAM does not know may be forged,
    // so it is never a silent skip.
    if (isNoSuchEntity(err)) throw escalate.principalNotFound(`role ${roleName}`);
    throw err;
  }
  if (!role?.RoleId || !role.Arn) throw new Error(`GetRole answered no RoleId or Arn for ${roleName}`);
  // Again on IAM's own spelling of the name: the role GetRole found is the one that would be revoked.
  if (isResponderRole(role.RoleName ?? roleName, options)) throw escalate.responderRole(role.RoleName ?? roleName);
  if (role.RoleId !== roleId) throw escalate.roleReplaced(roleName, roleId, role.RoleId);
  const path = role.Path ?? "/";
  if (path.startsWith("/aws-service-role/")) throw escalate.serviceLinkedRole(roleName);
  if (path.startsWith("/aws-reserved/")) throw escalate.identityCenterRole(roleName, path);
  return {
    kind: "role-sessions",
    accessKeyId,
    roleName,
    roleId: role.RoleId,
    roleArn: role.Arn,
    sessionName: sessionName ?? null,
    effect: revokeEffect(roleName, instanceSourceOf(sessionName ?? null, typeof ctx.finding["type"] === "string" ? ctx.finding["type"] : null)),
    policies: await rolePolicies(ctx, roleName),
  };
}

async function identifyCredentials(ctx: StepContext, options: IdentifyOptions): Promise<Principal> {
  const d = accessKeyDetailsOf(ctx);
  if (d.userType === "Root") throw escalate.rootCredentials(d.accessKeyId);
  if (d.userType === "FederatedUser") throw escalate.federatedUser(d.principalId);
  if (d.accessKeyId === null) throw escalate.unsupportedPrincipal(d.userType, null);
  // The remediation was created for this key (core's resource key): the row and the stored
  // finding must agree before anything is read or changed on the key's behalf.
  if (ctx.remediation.resourceKey !== d.accessKeyId) {
    throw escalate.inconsistent(`the remediation is for ${ctx.remediation.resourceKey}, the finding names ${d.accessKeyId}`);
  }
  const longTerm = isLongTermKey(d.accessKeyId);
  if (d.userType === "IAMUser") {
    if (!longTerm) throw escalate.userSessionToken(d.accessKeyId, d.userName);
    if (d.userName === null) throw escalate.inconsistent("an IAMUser key without the user's name");
    return userKey(ctx, d.accessKeyId, d.userName);
  }
  if (d.userType === "AssumedRole") {
    if (longTerm) throw escalate.inconsistent(`an AssumedRole with a long-term key ${d.accessKeyId}`);
    return roleSessions(ctx, d, d.accessKeyId, options);
  }
  throw escalate.unsupportedPrincipal(d.userType, d.accessKeyId);
}

export function createIdentifyStep(options: IdentifyOptions = {}): Step {
  return {
    name: STEP.identify,
    destructive: false,
    // Only reads: it runs before an approval plan is frozen, so the plan is built from live state.
    readOnly: true,
    output: principalSchema,

    // Taken once: a re-run after containment must not record the deactivated key as the state
    // release goes back to.
    check(ctx) {
      if (ctx.outputs.get(STEP.identify) === undefined) return Promise.resolve({ done: false });
      return Promise.resolve({ done: true, output: principalOf(ctx) });
    },

    act: (ctx) => identifyCredentials(ctx, options),

    async verify() {
      // Nothing changed in AWS: act only read.
    },

    // Revoking a role's sessions reaches far beyond the finding: the plan says so, and even a policy
    // in auto mode does not end every session of a role without a person.
    holdFor(output) {
      const parsed = principalSchema.safeParse(output);
      return parsed.success && parsed.data.kind === "role-sessions" ? parsed.data.effect : null;
    },
  };
}
