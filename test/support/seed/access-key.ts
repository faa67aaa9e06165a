// Seeds, in moto, what the Credentials playbook works on: an IAM user with a long-term access key
// (AKIA…), and a role with a live session (STS AssumeRole gives an ASIA… key and the session's
// `AROA…:<session>` id). Each has an inline policy of its own, the "other" policy release must
// leave alone. Also reads back what the playbook changed (key status, role policies) straight from
// moto, and builds the GuardDuty finding that names the seeded credentials.
//
// moto notes (../shared/MOTO.md): it stores an Inactive status and a DateLessThan
// aws:TokenIssueTime deny exactly, and enforces neither (an Inactive key still authenticates, every
// conditional Deny acts as unconditional): tests assert on the state written, never on access.
import { randomBytes } from "node:crypto";
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { accessKeyFinding, hexId, type AccessKeyFindingOptions, type JsonObject } from "@gdr/samples/findings";
import { awsTestEnv, MOTO_ACCOUNT_ID } from "../aws-env.js";

export interface IamClients {
  iam: IAMClient;
  sts: STSClient;
}

/** SDK clients straight to moto (IAM is global: the region only picks the endpoint's signing). */
export function iamClients(endpoint: string): IamClients & { destroy(): void } {
  const env = awsTestEnv(endpoint);
  const config = { region: env.region, endpoint: env.endpoint, credentials: env.credentials };
  const iam = new IAMClient(config);
  const sts = new STSClient(config);
  return {
    iam,
    sts,
    destroy() {
      iam.destroy();
      sts.destroy();
    },
  };
}

/** The inline policy every seeded principal carries besides anything the playbook adds. */
export const OTHER_POLICY = {
  name: "app-permissions",
  document: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] }),
};

const suffix = (): string => randomBytes(4).toString("hex");

export interface SeededUserKey {
  userName: string;
  userId: string;
  accessKeyId: string;
}

export async function seedUserKey(c: IamClients, options: { status?: "Active" | "Inactive" } = {}): Promise<SeededUserKey> {
  const userName = `deploy-bot-${suffix()}`;
  const user = await c.iam.send(new CreateUserCommand({ UserName: userName }));
  await c.iam.send(new PutUserPolicyCommand({ UserName: userName, PolicyName: OTHER_POLICY.name, PolicyDocument: OTHER_POLICY.document }));
  const key = await c.iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  const accessKeyId = key.AccessKey?.AccessKeyId;
  const userId = user.User?.UserId;
  if (!accessKeyId || !userId) throw new Error("moto answered CreateUser/CreateAccessKey without ids");
  if (options.status === "Inactive") {
    await c.iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: "Inactive" }));
  }
  return { userName, userId, accessKeyId };
}

export interface SeededRoleSession {
  roleName: string;
  roleId: string;
  roleArn: string;
  sessionName: string;
  /** The session's temporary key (ASIA…). */
  accessKeyId: string;
  /** `AROA…:<session name>`, as GuardDuty reports an assumed role's principal. */
  principalId: string;
}

export async function seedRoleSession(c: IamClients): Promise<SeededRoleSession> {
  const roleName = `app-server-role-${suffix()}`;
  const trust = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT_ID}:root` }, Action: "sts:AssumeRole" }],
  });
  const role = (await c.iam.send(new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: trust }))).Role;
  if (!role?.RoleId || !role.Arn) throw new Error("moto answered CreateRole without ids");
  await c.iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: OTHER_POLICY.name, PolicyDocument: OTHER_POLICY.document }));
  const sessionName = `i-${randomBytes(9).toString("hex").slice(0, 17)}`;
  const assumed = await c.sts.send(new AssumeRoleCommand({ RoleArn: role.Arn, RoleSessionName: sessionName }));
  const accessKeyId = assumed.Credentials?.AccessKeyId;
  const principalId = assumed.AssumedRoleUser?.AssumedRoleId;
  if (!accessKeyId || !principalId) throw new Error("moto answered AssumeRole without credentials");
  return { roleName, roleId: role.RoleId, roleArn: role.Arn, sessionName, accessKeyId, principalId };
}

/** The status moto holds for a user's key, or null when the key is not the user's (or gone). */
export async function keyStatus(c: IamClients, userName: string, accessKeyId: string): Promise<string | null> {
  const out = await c.iam.send(new ListAccessKeysCommand({ UserName: userName }));
  return out.AccessKeyMetadata?.find((k) => k.AccessKeyId === accessKeyId)?.Status ?? null;
}

/** A role's inline policies by name, each document parsed (IAM URL-encodes them; moto may not). */
export async function rolePolicies(c: IamClients, roleName: string): Promise<Record<string, unknown>> {
  const names = (await c.iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? [];
  const out: Record<string, unknown> = {};
  for (const name of names.sort()) {
    const text = (await c.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }))).PolicyDocument ?? "";
    out[name] = JSON.parse(text.trim().startsWith("{") ? text : decodeURIComponent(text)) as unknown;
  }
  return out;
}

/** A GuardDuty finding naming a seeded user's key (e.g. a call from a known malicious IP). */
export function userKeyFinding(seeded: SeededUserKey, options: AccessKeyFindingOptions = {}): JsonObject {
  return accessKeyFinding({
    accountId: MOTO_ACCOUNT_ID,
    type: "UnauthorizedAccess:IAMUser/MaliciousIPCaller",
    title: `API GetCallerIdentity was invoked from a known malicious IP address by user ${seeded.userName}.`,
    ...options,
    accessKeyId: seeded.accessKeyId,
    // GuardDuty names an IAM user by its unique id (AIDA…); moto's user ids are lowercase random
    // strings that core's principal id pattern rightly refuses, so the finding carries its own.
    principalId: `AIDA${hexId(17).toUpperCase()}`,
    userName: seeded.userName,
    userType: "IAMUser",
  });
}

/** A GuardDuty finding naming a seeded role session (instance credentials used outside AWS). */
export function roleSessionFinding(seeded: SeededRoleSession, options: AccessKeyFindingOptions = {}): JsonObject {
  return accessKeyFinding({
    accountId: MOTO_ACCOUNT_ID,
    ...options,
    accessKeyId: seeded.accessKeyId,
    principalId: seeded.principalId,
    userName: seeded.roleName,
    userType: "AssumedRole",
  });
}
