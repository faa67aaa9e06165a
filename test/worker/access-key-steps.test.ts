// The Credentials playbook's steps against a real moto server, run by a tiny loop standing in for
// the engine (check → act → verify, outputs through each step's schema), with every read and
// change going through the engine's own call path (calls.ts callsFor). What the end-to-end test
// cannot reach cheaply: a re-run of every step after containment and after release changes
// nothing (each finds its effect in place and keeps it, the cutoff included), a plan made after
// containment has no calls, and the cases identify and the policy steps refuse or skip.
//
// moto stores what is written and enforces none of it (../shared/MOTO.md): the assertions are on
// the key status and policy documents IAM holds.
import { randomUUID } from "node:crypto";
import {
  CreateRoleCommand,
  DeleteAccessKeyCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  GetRoleCommand,
  IAMClient,
  LimitExceededException,
  PutRolePolicyCommand,
  UnmodifiableEntityException,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import type { AwsClients } from "@gdr/core/aws/clients";
import { createLogger } from "@gdr/core/log";
import type { JsonObject } from "@gdr/samples/findings";
import type { InitializeMiddleware, MiddlewareStack } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callsFor, type Recorded } from "../../services/worker/src/engine/calls.js";
import { deriveCalls } from "../../services/worker/src/engine/derive.js";
import { EscalateRemediation, SkipRemediation, type ApiFamily, type Json, type Step, type StepContext, type StepMode } from "../../services/worker/src/engine/step.js";
import { accessKeyPlaybook } from "../../services/worker/src/playbooks/access-key/index.js";
import { awsTestEnv, MOTO_ACCOUNT_ID, startMoto, type Moto } from "../support/index.js";
import { runSteps } from "../support/steps.js";
import {
  iamClients,
  keyStatus,
  OTHER_POLICY,
  roleSessionFinding,
  rolePolicies,
  seedRoleSession,
  seedUserKey,
  userKeyFinding,
  type IamClients,
} from "../support/seed/access-key.js";

const playbook = accessKeyPlaybook();

let moto: Moto;
let seedClients: IamClients & { destroy(): void };
/** The playbook's IAM client, with every command it sends logged. */
let iam: IAMClient;
const sent: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  seedClients = iamClients(moto.endpoint);
  const env = awsTestEnv(moto.endpoint);
  iam = new IAMClient({ region: env.region, endpoint: env.endpoint, credentials: env.credentials, maxAttempts: 1 });
  logCommands(iam);
});

function logCommands<Input extends object, Output extends object>(client: { middlewareStack: MiddlewareStack<Input, Output> }): void {
  const log: InitializeMiddleware<Input, Output> = (next, context) => (args) => {
    sent.push(String(context.commandName).replace(/Command$/, ""));
    return next(args);
  };
  client.middlewareStack.add(log, { step: "initialize", name: "access-key-steps-log" });
}

afterAll(async () => {
  iam.destroy();
  seedClients.destroy();
  await moto.stop();
});

interface TestContext extends StepContext {
  outputs: Map<string, Json>;
  recorded: Recorded;
  families: ApiFamily[];
}

/** Each remediation's audit marks (ctx.audit in act mode), kept across a "restart" as Postgres keeps them. */
const marks = new Map<string, Set<string>>();

function makeContext(finding: JsonObject, resourceKey: string, options: { remediationId?: string; outputs?: Map<string, Json>; mode?: StepMode } = {}): TestContext {
  const remediationId = options.remediationId ?? randomUUID();
  const findingId = typeof finding["id"] === "string" ? finding["id"] : "";
  const mode = options.mode ?? "act";
  const aws = { accountId: MOTO_ACCOUNT_ID, region: "us-east-1", iam } as unknown as AwsClients;
  const signal = new AbortController().signal;
  const families: ApiFamily[] = [];
  const throttle = (family: ApiFamily): Promise<void> => {
    families.push(family);
    return Promise.resolve();
  };
  const calls = callsFor(mode, { aws, signal, throttle, noteRequestId: () => undefined });
  return {
    mode,
    read: calls.read,
    change: calls.change,
    changeOutside: calls.changeOutside,
    startRemediation: () => Promise.reject(new Error("this playbook starts no other remediation")),
    recorded: calls.recorded,
    client: () => Promise.reject(new Error("the access-key playbook has no outside client")),
    remediation: { id: remediationId, findingId, accountId: MOTO_ACCOUNT_ID, region: "us-east-1", resourceKey, playbook: "access-key", mode: "approval" },
    finding,
    aws,
    outputs: options.outputs ?? new Map<string, Json>(),
    signal,
    logger: createLogger({ level: "silent", name: "t" }),
    throttle,
    noteRequestId: () => undefined,
    tags: { findingId, remediationId },
    withLock: (_name, fn) => fn(),
    audit: (action) => {
      // As the engine does: nothing is written outside act mode.
      if (mode === "act") marks.set(remediationId, new Set([...(marks.get(remediationId) ?? []), action]));
      return Promise.resolve();
    },
    marked: (action) => Promise.resolve(marks.get(remediationId)?.has(action) ?? false),
    families,
  };
}

/** The same remediation after a restart: its outputs so far, fresh bookkeeping. */
function rerun(ctx: TestContext, outputs = ctx.outputs): TestContext {
  return makeContext(ctx.finding, ctx.remediation.resourceKey, { remediationId: ctx.remediation.id, outputs });
}

/** What an approver would be shown now for these steps (engine/derive.ts), from these outputs. */
async function planNow(steps: readonly Step[], base: TestContext): Promise<Record<string, string[]>> {
  const outputs = new Map(base.outputs);
  const planned: Record<string, string[]> = {};
  for (const step of steps) {
    const ctx = makeContext(base.finding, base.remediation.resourceKey, { remediationId: base.remediation.id, outputs, mode: "plan" });
    planned[step.name] = (await deriveCalls(step, ctx, outputs)).calls.map((c) => c.operation);
  }
  return planned;
}

function changing(): string[] {
  return sent.filter((c) => !/^(Get|List)/.test(c));
}

async function stopOf(promise: Promise<unknown>): Promise<EscalateRemediation | SkipRemediation> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof EscalateRemediation || err instanceof SkipRemediation) return err;
  throw new Error(`expected the step to stop the remediation, got ${String(err)}`);
}

const identify = playbook.steps[0] as Step;
const revokeSessions = playbook.steps[2] as Step;

describe("a re-run changes nothing", () => {
  it("for a user's key: every step finds its effect in place, after containment and after release", async () => {
    const seeded = await seedUserKey(seedClients);
    const ctx = makeContext(userKeyFinding(seeded), seeded.accessKeyId);
    sent.length = 0;
    expect(await runSteps(playbook.steps, ctx)).toEqual({ identify: "acted", "deactivate-key": "acted", "revoke-sessions": "already-done", verify: "verified" });
    expect(changing()).toEqual(["UpdateAccessKey"]);
    expect(await keyStatus(seedClients, seeded.userName, seeded.accessKeyId)).toBe("Inactive");

    // Contained: a second run (same remediation, identify's record kept) sends no change, and
    // identify keeps the status it found before containment (Active), not the Inactive it would read now.
    sent.length = 0;
    const again = rerun(ctx);
    expect(await runSteps(playbook.steps, again)).toEqual({ identify: "already-done", "deactivate-key": "already-done", "revoke-sessions": "already-done", verify: "verified" });
    expect(changing()).toEqual([]);
    expect(again.outputs.get("identify")).toMatchObject({ statusBefore: "Active" });
    expect(await planNow(playbook.steps.slice(1), again)).toEqual({ "deactivate-key": [], "revoke-sessions": [], verify: [] });
    expect(new Set(again.families)).toEqual(new Set(["iam-read"]));

    expect(await runSteps(playbook.release, rerun(again))).toEqual({ "reactivate-key": "acted", "remove-revoke-policy": "already-done" });
    expect(await keyStatus(seedClients, seeded.userName, seeded.accessKeyId)).toBe("Active");
    sent.length = 0;
    expect(await runSteps(playbook.release, rerun(again))).toEqual({ "reactivate-key": "already-done", "remove-revoke-policy": "already-done" });
    expect(changing()).toEqual([]);
  });

  it("for a role: the policy found in place keeps its cutoff (a restart does not move it), and release removes it once", async () => {
    const seeded = await seedRoleSession(seedClients);
    const ctx = makeContext(roleSessionFinding(seeded), seeded.accessKeyId);
    sent.length = 0;
    expect(await runSteps(playbook.steps, ctx)).toEqual({ identify: "acted", "deactivate-key": "already-done", "revoke-sessions": "acted", verify: "verified" });
    expect(changing()).toEqual(["PutRolePolicy"]);
    const written = ctx.outputs.get("revoke-sessions") as { cutoff: string; policyName: string };
    const contained = await rolePolicies(seedClients, seeded.roleName);

    // A worker that died after PutRolePolicy, before recording it: revoke-sessions runs again
    // without its output and finds the policy, with the first cutoff.
    const outputs = new Map(ctx.outputs);
    outputs.delete("revoke-sessions");
    outputs.delete("verify");
    sent.length = 0;
    const resumed = rerun(ctx, outputs);
    expect(await runSteps(playbook.steps, resumed)).toEqual({ identify: "already-done", "deactivate-key": "already-done", "revoke-sessions": "already-done", verify: "verified" });
    expect(changing()).toEqual([]);
    expect(resumed.outputs.get("revoke-sessions")).toEqual(written);
    expect(await rolePolicies(seedClients, seeded.roleName)).toEqual(contained);
    expect(await planNow(playbook.steps.slice(1), resumed)).toEqual({ "deactivate-key": [], "revoke-sessions": [], verify: [] });

    expect(await runSteps(playbook.release, rerun(resumed))).toEqual({ "reactivate-key": "already-done", "remove-revoke-policy": "acted" });
    sent.length = 0;
    expect(await runSteps(playbook.release, rerun(resumed))).toEqual({ "reactivate-key": "already-done", "remove-revoke-policy": "already-done" });
    expect(changing()).toEqual([]);
    expect(Object.keys(await rolePolicies(seedClients, seeded.roleName))).toEqual([OTHER_POLICY.name]);
  });
});

describe("release undoes only what this remediation did", () => {
  it("leaves a key Inactive that someone else deactivated while the approval waited", async () => {
    const seeded = await seedUserKey(seedClients);
    const ctx = makeContext(userKeyFinding(seeded), seeded.accessKeyId);
    await runSteps([identify], ctx);
    expect(ctx.outputs.get("identify")).toMatchObject({ statusBefore: "Active" });
    // A person (or another remediation) deactivates the key before this one is approved.
    await seedClients.iam.send(new UpdateAccessKeyCommand({ UserName: seeded.userName, AccessKeyId: seeded.accessKeyId, Status: "Inactive" }));
    sent.length = 0;
    expect(await runSteps(playbook.steps.slice(1), ctx)).toEqual({ "deactivate-key": "already-done", "revoke-sessions": "already-done", verify: "verified" });
    expect(ctx.outputs.get("deactivate-key")).toMatchObject({ applies: true, status: "Inactive", deactivatedBy: "already inactive when this step acted" });
    expect(await planNow(playbook.release, ctx)).toEqual({ "reactivate-key": [], "remove-revoke-policy": [] });
    // The release plan says why the key stays Inactive (the frozen plan's step note).
    const reactivate = playbook.release[0];
    if (!reactivate) throw new Error("the playbook has no release step");
    const planCtx = makeContext(ctx.finding, ctx.remediation.resourceKey, { remediationId: ctx.remediation.id, outputs: new Map(ctx.outputs), mode: "plan" });
    expect((await deriveCalls(reactivate, planCtx, new Map(ctx.outputs))).note).toMatch(/^left Inactive: the key was made Inactive by someone else/);
    expect(await runSteps(playbook.release, rerun(ctx))).toEqual({ "reactivate-key": "already-done", "remove-revoke-policy": "already-done" });
    expect(changing()).toEqual([]);
    expect(await keyStatus(seedClients, seeded.userName, seeded.accessKeyId)).toBe("Inactive");
  });

  it("records that it deactivated the key itself, and release reactivates exactly that", async () => {
    const seeded = await seedUserKey(seedClients);
    const ctx = makeContext(userKeyFinding(seeded), seeded.accessKeyId);
    await runSteps(playbook.steps, ctx);
    expect(ctx.outputs.get("deactivate-key")).toMatchObject({ applies: true, status: "Inactive", deactivatedBy: "this remediation" });
    // Said, not implied: the key's own requests stop, sessions it already obtained do not.
    expect((ctx.outputs.get("deactivate-key") as { effect?: string }).effect).toMatch(/does not end role sessions already assumed with it/);
    // A restart with the output recorded keeps "this remediation".
    const again = rerun(ctx);
    await runSteps(playbook.steps, again);
    expect(again.outputs.get("deactivate-key")).toMatchObject({ deactivatedBy: "this remediation" });
    expect(await runSteps(playbook.release, rerun(again))).toEqual({ "reactivate-key": "acted", "remove-revoke-policy": "already-done" });
    expect(await keyStatus(seedClients, seeded.userName, seeded.accessKeyId)).toBe("Active");
  });
});

describe("two remediations on one role", () => {
  it("each writes the role's inline policies holding the role's lock, and release says which revocations remain", async () => {
    const seeded = await seedRoleSession(seedClients);
    const lockName = `iam-role:${MOTO_ACCOUNT_ID}:${seeded.roleName.toLowerCase()}`;
    /** The lock held when each change was sent. */
    const underLock: [string, string | null][] = [];
    const locked = (base: TestContext): TestContext => {
      let held: string | null = null;
      const send = base.change.bind(base);
      return Object.assign(base, {
        withLock: async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
          held = name;
          try {
            return await fn();
          } finally {
            held = null;
          }
        },
        change: (call: Parameters<StepContext["change"]>[0]) => {
          underLock.push([call.command.constructor.name.replace(/Command$/, ""), held]);
          return send(call);
        },
      });
    };
    const first = locked(makeContext(roleSessionFinding(seeded), seeded.accessKeyId));
    const second = locked(makeContext(roleSessionFinding(seeded), seeded.accessKeyId));
    await runSteps(playbook.steps, first);
    await runSteps(playbook.steps, second);
    const firstPolicy = (first.outputs.get("revoke-sessions") as { policyName: string }).policyName;
    const secondPolicy = (second.outputs.get("revoke-sessions") as { policyName: string }).policyName;
    expect(Object.keys(await rolePolicies(seedClients, seeded.roleName))).toEqual([OTHER_POLICY.name, firstPolicy, secondPolicy].sort());

    // Released first: the second revocation stays, and the output says so.
    await runSteps(playbook.release, locked(rerun(first)));
    const firstRelease = first.outputs.get("remove-revoke-policy") as { note?: string };
    expect(firstRelease).toMatchObject({ applies: true, removed: true, policyName: firstPolicy, othersRemaining: [secondPolicy] });
    expect(firstRelease.note).toMatch(new RegExp(`still has 1 other revocation policy of this service \\(${secondPolicy}\\)`));
    const releaseSecond = locked(rerun(second));
    await runSteps(playbook.release, releaseSecond);
    expect(releaseSecond.outputs.get("remove-revoke-policy")).toMatchObject({ removed: true, othersRemaining: [] });
    expect(underLock).toEqual([
      ["PutRolePolicy", lockName],
      ["PutRolePolicy", lockName],
      ["DeleteRolePolicy", lockName],
      ["DeleteRolePolicy", lockName],
    ]);
    expect(Object.keys(await rolePolicies(seedClients, seeded.roleName))).toEqual([OTHER_POLICY.name]);
  });

  it("escalates with the reason when the role's inline policies are full (LimitExceeded on PutRolePolicy)", async () => {
    const seeded = await seedRoleSession(seedClients);
    const ctx = makeContext(roleSessionFinding(seeded), seeded.accessKeyId);
    await runSteps([identify], ctx);
    const full = (): Promise<never> => Promise.reject(new LimitExceededException({ message: "Maximum policy size of 10240 bytes exceeded for role", $metadata: { httpStatusCode: 409 } }));
    const stop = await stopOf(revokeSessions.act({ ...ctx, change: full }, undefined));
    expect(stop).toBeInstanceOf(EscalateRemediation);
    expect((stop as EscalateRemediation).reason).toMatch(new RegExp(`^role_policies_full: role ${seeded.roleName}'s inline policies are full`));
  });
});

describe("what identify and the policy steps refuse", () => {
  // identify runs before GuardDuty confirms the finding: a forged name that IAM does not know must
  // not end a real finding's remediation silently skipped; a person is told to check the finding.
  it("escalates (never skips) a key whose user does not exist", async () => {
    const seeded = await seedUserKey(seedClients);
    await seedClients.iam.send(new DeleteAccessKeyCommand({ UserName: seeded.userName, AccessKeyId: seeded.accessKeyId }));
    await seedClients.iam.send(new DeleteUserPolicyCommand({ UserName: seeded.userName, PolicyName: OTHER_POLICY.name }));
    await seedClients.iam.send(new DeleteUserCommand({ UserName: seeded.userName }));
    const stop = await stopOf(identify.act(makeContext(userKeyFinding(seeded), seeded.accessKeyId), undefined));
    expect(stop).toBeInstanceOf(EscalateRemediation);
    expect((stop as EscalateRemediation).reason).toMatch(new RegExp(`^principal_not_found: IAM user ${seeded.userName} named by the finding was not found in IAM.*check the finding`));
  });

  it("escalates (never skips) a session of a role that does not exist", async () => {
    const seeded = await seedRoleSession(seedClients);
    const forged = { ...seeded, roleName: `no-such-role-${randomUUID().slice(0, 8)}` };
    sent.length = 0;
    const stop = await stopOf(identify.act(makeContext(roleSessionFinding(forged), seeded.accessKeyId), undefined));
    expect(stop).toBeInstanceOf(EscalateRemediation);
    expect((stop as EscalateRemediation).reason).toMatch(new RegExp(`^principal_not_found: role ${forged.roleName} named by the finding was not found in IAM.*check the finding`));
    expect(changing()).toEqual([]);
  });

  it("escalates a session of a role deleted and created again under the same name", async () => {
    const seeded = await seedRoleSession(seedClients);
    await seedClients.iam.send(new DeleteRolePolicyCommand({ RoleName: seeded.roleName, PolicyName: OTHER_POLICY.name }));
    await seedClients.iam.send(new DeleteRoleCommand({ RoleName: seeded.roleName }));
    const trust = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] });
    await seedClients.iam.send(new CreateRoleCommand({ RoleName: seeded.roleName, AssumeRolePolicyDocument: trust }));
    sent.length = 0;
    const stop = await stopOf(identify.act(makeContext(roleSessionFinding(seeded), seeded.accessKeyId), undefined));
    expect(stop).toBeInstanceOf(EscalateRemediation);
    expect((stop as EscalateRemediation).reason).toMatch(new RegExp(`^role_replaced: role ${seeded.roleName} is now AROA`));
    expect(changing()).toEqual([]);
  });

  it("escalates a service-linked role, whose sessions IAM cannot revoke", async () => {
    const roleName = `AWSServiceRoleForTest${randomUUID().slice(0, 8)}`;
    const trust = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ecs.amazonaws.com" }, Action: "sts:AssumeRole" }] });
    await seedClients.iam.send(new CreateRoleCommand({ RoleName: roleName, Path: "/aws-service-role/ecs.amazonaws.com/", AssumeRolePolicyDocument: trust }));
    const role = (await seedClients.iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
    const accessKeyId = "ASIA" + randomUUID().replaceAll("-", "").slice(0, 16).toUpperCase();
    const finding = roleSessionFinding({ roleName, roleId: role?.RoleId ?? "", roleArn: role?.Arn ?? "", sessionName: "ecs", accessKeyId, principalId: `${role?.RoleId ?? ""}:ecs` });
    const stop = await stopOf(identify.act(makeContext(finding, accessKeyId), undefined));
    expect((stop as EscalateRemediation).reason).toMatch(/^service_linked_role: /);
  });

  it("escalates a session of an IAM Identity Center role (/aws-reserved/), which IAM cannot change", async () => {
    const roleName = `AWSReservedSSO_Admin_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const trust = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Federated: `arn:aws:iam::${MOTO_ACCOUNT_ID}:saml-provider/AWSSSO_x_DO_NOT_DELETE` }, Action: "sts:AssumeRoleWithSAML" }] });
    await seedClients.iam.send(new CreateRoleCommand({ RoleName: roleName, Path: "/aws-reserved/sso.amazonaws.com/", AssumeRolePolicyDocument: trust }));
    const role = (await seedClients.iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
    const accessKeyId = "ASIA" + randomUUID().replaceAll("-", "").slice(0, 16).toUpperCase();
    const finding = roleSessionFinding({ roleName, roleId: role?.RoleId ?? "", roleArn: role?.Arn ?? "", sessionName: "alice", accessKeyId, principalId: `${role?.RoleId ?? ""}:alice` });
    const stop = await stopOf(identify.act(makeContext(finding, accessKeyId), undefined));
    expect(stop).toBeInstanceOf(EscalateRemediation);
    expect((stop as EscalateRemediation).reason).toMatch(new RegExp(`^identity_center_role: role ${roleName} .*revoke .*sessions in IAM Identity Center`));
  });

  it("escalates with the reason when IAM answers UnmodifiableEntity to PutRolePolicy or DeleteRolePolicy", async () => {
    const seeded = await seedRoleSession(seedClients);
    const ctx = makeContext(roleSessionFinding(seeded), seeded.accessKeyId);
    await runSteps([identify], ctx);
    const refused = (): Promise<never> => Promise.reject(new UnmodifiableEntityException({ message: "Cannot perform the operation on the protected role", $metadata: { httpStatusCode: 400 } }));
    const put = await stopOf(revokeSessions.act({ ...ctx, change: refused }, undefined));
    expect(put).toBeInstanceOf(EscalateRemediation);
    expect((put as EscalateRemediation).reason).toMatch(new RegExp(`^unmodifiable_role: IAM refuses to change role ${seeded.roleName} \\(UnmodifiableEntity`));
    const removeRevokePolicy = playbook.release[1] as Step;
    const del = await stopOf(removeRevokePolicy.act({ ...ctx, change: refused }, undefined));
    expect((del as EscalateRemediation).reason).toMatch(/^unmodifiable_role: /);
    expect(Object.keys(await rolePolicies(seedClients, seeded.roleName))).toEqual([OTHER_POLICY.name]);
  });

  it("escalates a session of the role the responder itself acts through, before any call", async () => {
    const seeded = await seedRoleSession(seedClients);
    const own = accessKeyPlaybook({ responderRoleName: seeded.roleName }).steps[0] as Step;
    sent.length = 0;
    const stop = await stopOf(own.act(makeContext(roleSessionFinding(seeded), seeded.accessKeyId), undefined));
    expect((stop as EscalateRemediation).reason).toMatch(new RegExp(`^responder_credentials: role ${seeded.roleName} is the role this service acts through`));
    expect(sent).toEqual([]);
  });

  it("knows the responder's own role whatever the case it is written in (IAM role names are unique case-insensitively)", async () => {
    const seeded = await seedRoleSession(seedClients);
    const own = accessKeyPlaybook({ responderRoleName: seeded.roleName.toUpperCase() }).steps[0] as Step;
    sent.length = 0;
    const stop = await stopOf(own.act(makeContext(roleSessionFinding(seeded), seeded.accessKeyId), undefined));
    expect((stop as EscalateRemediation).reason).toMatch(/^responder_credentials: /);
    expect(changing()).toEqual([]);
  });

  it("never overwrites a policy of its name that it did not write", async () => {
    const seeded = await seedRoleSession(seedClients);
    const ctx = makeContext(roleSessionFinding(seeded), seeded.accessKeyId);
    await runSteps([identify], ctx);
    const policyName = `guardduty-responder-revoke-${ctx.remediation.id}`;
    const foreign = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Deny", Action: "s3:*", Resource: "*" }] });
    await seedClients.iam.send(new PutRolePolicyCommand({ RoleName: seeded.roleName, PolicyName: policyName, PolicyDocument: foreign }));
    sent.length = 0;
    const stop = await stopOf(revokeSessions.check(ctx));
    expect((stop as EscalateRemediation).reason).toMatch(/^policy_name_taken: /);
    const release = playbook.release[1] as Step;
    ctx.outputs.set("revoke-sessions", { applies: true, roleName: seeded.roleName, policyName, cutoff: "2026-12-05T03:40:13Z", document: "{}", effect: "" });
    expect(((await stopOf(release.check(ctx))) as EscalateRemediation).reason).toMatch(/^policy_not_ours: /);
    expect(changing()).toEqual([]);
    expect((await rolePolicies(seedClients, seeded.roleName))[policyName]).toEqual(JSON.parse(foreign));
  });
});
