// The Credentials playbook end to end through the real services: a GuardDuty finding on leaked
// credentials goes through SQS and ingest (the shipped policy: approval mode for AccessKey), the
// worker identifies the credentials in moto's IAM and freezes a plan, nothing changes until a
// person approves, then the key is deactivated or the role's older sessions revoked, and an
// approved release undoes exactly that. Credentials it must not act on (root, a federated user,
// a key that is not the named user's) are escalated with the reason and nothing is written.
//
// moto stores a key's Inactive status and the aws:TokenIssueTime deny exactly, and enforces
// neither (../shared/MOTO.md): an Inactive key still authenticates there, and any conditional
// Deny acts as unconditional. So these tests assert on the state written to IAM, never on access;
// the cutoff's semantics are unit-tested (playbooks/access-key/revoke-policy.test.ts).
import { approveRemediation, requestRelease } from "@gdr/core/approvals/decide";
import type { AwsClients } from "@gdr/core/aws/clients";
import { accessKeyFinding, hexId } from "@gdr/samples/findings";
import type { InitializeMiddleware, MiddlewareStack } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
import {
  ACCOUNT,
  auditOf,
  createEngineWorld,
  findingIdOf,
  remediationForFinding,
  stepMap,
  stepsOf,
  startLane,
  waitForStatus,
  type EngineWorld,
  type Lane,
  type RemediationRow,
} from "./engine-harness.js";

const SETTLED = ["awaiting_approval", "succeeded", "failed", "skipped", "escalated", "rejected"];

interface PlannedCall {
  service: string;
  operation: string;
  params: Record<string, unknown>;
}
interface Plan {
  action: string;
  reason?: string;
  steps: { name: string; destructive: boolean; calls: PlannedCall[] }[];
}

let world: EngineWorld;
let iam: IamClients & { destroy(): void };

beforeAll(async () => {
  world = await createEngineWorld();
  iam = iamClients(world.moto.endpoint);
});

afterAll(async () => {
  iam.destroy();
  await world.close();
});

/** Every IAM command the in-process worker sends, in order, as its operation name. */
function iamCallLog(): { calls: string[]; changing(): string[]; install(clients: AwsClients): void } {
  const calls: string[] = [];
  function record<Input extends object, Output extends object>(client: { middlewareStack: MiddlewareStack<Input, Output> }): void {
    const middleware: InitializeMiddleware<Input, Output> = (next, context) => (args) => {
      calls.push(String(context.commandName).replace(/Command$/, ""));
      return next(args);
    };
    client.middlewareStack.add(middleware, { step: "initialize", name: "access-key-test-iam-log" });
  }
  return {
    calls,
    changing: () => calls.filter((c) => !/^(Get|List)/.test(c)),
    install(clients) {
      record(clients.iam);
    },
  };
}

function planOf(row: RemediationRow): Plan {
  return row.plan as Plan;
}

function callsOf(plan: Plan): Record<string, PlannedCall[]> {
  return Object.fromEntries(plan.steps.map((s) => [s.name, s.calls]));
}

async function statusesOf(remediationId: string): Promise<Record<string, string>> {
  return Object.fromEntries((await stepsOf(world.db, remediationId)).map((s) => [s.name, s.status]));
}

async function containedAt(remediationId: string): Promise<Date | null> {
  const { rows } = await world.db.pool.query<{ contained_at: Date | null }>("SELECT contained_at FROM remediations WHERE id = $1::uuid", [remediationId]);
  return rows[0]?.contained_at ?? null;
}

async function approve(lane: Lane, row: RemediationRow, actor: string): Promise<void> {
  const decision = await approveRemediation(world.db.prisma, lane.queues, { remediationId: row.id, actor, reason: "looked at the plan", planHash: row.plan_hash ?? "" });
  expect(decision.ok).toBe(true);
}

/** Asks for a release, waits for its plan, approves it, and waits for the release steps to finish. */
async function release(lane: Lane, id: string, check: (plan: Plan) => Promise<void>): Promise<void> {
  expect((await requestRelease(world.db.prisma, lane.queues, id, "erin")).ok).toBe(true);
  const waiting = await waitForStatus(world.db, id, ["awaiting_approval", "failed"]);
  expect(waiting.status).toBe("awaiting_approval");
  expect(planOf(waiting).action).toBe("release");
  await check(planOf(waiting));
  await approve(lane, waiting, "frank");
  // Approval leaves the remediation awaiting_approval until the release job runs it.
  expect((await waitForStatus(world.db, id, ["succeeded", "failed"])).status).toBe("succeeded");
  const steps = stepMap(await stepsOf(world.db, id));
  for (const name of ["reactivate-key", "remove-revoke-policy"]) expect(["succeeded", "skipped"], name).toContain(steps.get(name)?.status);
}

describe("an IAM user's long-term key", () => {
  it("is deactivated once a person approves, and active again after an approved release", async () => {
    const log = iamCallLog();
    const lane = await startLane(world, { awsMiddleware: (c) => { log.install(c); } });
    const seeded = await seedUserKey(iam);
    const detail = userKeyFinding(seeded, { severity: 8 });
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));
    expect(queued).toMatchObject({ playbook: "access-key", mode: "approval", resource_key: seeded.accessKeyId });

    // Identified and planned; nothing changed before the approval.
    const waiting = await waitForStatus(world.db, queued.id, SETTLED);
    expect(waiting.status).toBe("awaiting_approval");
    expect(await keyStatus(iam, seeded.userName, seeded.accessKeyId)).toBe("Active");
    expect(log.changing()).toEqual([]);
    expect(await statusesOf(queued.id)).toEqual({ identify: "succeeded", "deactivate-key": "awaiting_approval" });
    const identified = stepMap(await stepsOf(world.db, queued.id)).get("identify")?.output;
    expect(identified).toMatchObject({
      kind: "user-key",
      accessKeyId: seeded.accessKeyId,
      userName: seeded.userName,
      statusBefore: "Active",
      policies: { attached: [], inline: [OTHER_POLICY.name], truncated: false },
    });
    const plan = planOf(waiting);
    expect(plan.reason).toBeUndefined();
    expect(callsOf(plan)).toEqual({
      "deactivate-key": [{ service: "iam", operation: "UpdateAccessKey", params: { UserName: seeded.userName, AccessKeyId: seeded.accessKeyId, Status: "Inactive" } }],
      "revoke-sessions": [],
      verify: [],
    });

    await approve(lane, waiting, "alice");
    expect((await waitForStatus(world.db, queued.id, ["succeeded", "failed", "escalated"])).status).toBe("succeeded");
    expect(await keyStatus(iam, seeded.userName, seeded.accessKeyId)).toBe("Inactive");
    expect(await statusesOf(queued.id)).toEqual({ identify: "succeeded", "deactivate-key": "succeeded", "revoke-sessions": "skipped", verify: "verified" });
    expect(await containedAt(queued.id)).toBeInstanceOf(Date);
    expect(log.changing()).toEqual(["UpdateAccessKey"]);

    await release(lane, queued.id, async (releasePlan) => {
      expect(callsOf(releasePlan)).toEqual({
        "reactivate-key": [{ service: "iam", operation: "UpdateAccessKey", params: { UserName: seeded.userName, AccessKeyId: seeded.accessKeyId, Status: "Active" } }],
        "remove-revoke-policy": [],
      });
      // Still contained while the release waits.
      expect(await keyStatus(iam, seeded.userName, seeded.accessKeyId)).toBe("Inactive");
    });
    expect(await keyStatus(iam, seeded.userName, seeded.accessKeyId)).toBe("Active");
    expect(log.changing()).toEqual(["UpdateAccessKey", "UpdateAccessKey"]);
    await lane.stop();
  });

  it("stays Inactive after release when it was Inactive before containment", async () => {
    const lane = await startLane(world);
    const seeded = await seedUserKey(iam, { status: "Inactive" });
    const detail = userKeyFinding(seeded);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));
    const waiting = await waitForStatus(world.db, queued.id, SETTLED);
    expect(waiting.status).toBe("awaiting_approval");
    // Nothing to change: the plan says so (no calls), and approving it changes nothing.
    expect(callsOf(planOf(waiting))["deactivate-key"]).toEqual([]);
    await approve(lane, waiting, "alice");
    expect((await waitForStatus(world.db, queued.id, ["succeeded", "failed", "escalated"])).status).toBe("succeeded");
    expect(await statusesOf(queued.id)).toMatchObject({ "deactivate-key": "skipped", verify: "verified" });
    await release(lane, queued.id, (plan) => {
      expect(callsOf(plan)["reactivate-key"]).toEqual([]);
      return Promise.resolve();
    });
    expect(await keyStatus(iam, seeded.userName, seeded.accessKeyId)).toBe("Inactive");
    await lane.stop();
  });
});

describe("an assumed role's session", () => {
  it("revokes every older session of the role once approved, and release removes exactly that policy", async () => {
    const log = iamCallLog();
    const lane = await startLane(world, { awsMiddleware: (c) => { log.install(c); } });
    const seeded = await seedRoleSession(iam);
    const before = await rolePolicies(iam, seeded.roleName);
    expect(Object.keys(before)).toEqual([OTHER_POLICY.name]);
    const detail = roleSessionFinding(seeded);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));
    expect(queued).toMatchObject({ playbook: "access-key", mode: "approval", resource_key: seeded.accessKeyId });
    const policyName = `guardduty-responder-revoke-${queued.id}`;

    const waiting = await waitForStatus(world.db, queued.id, SETTLED);
    expect(waiting.status).toBe("awaiting_approval");
    expect(await rolePolicies(iam, seeded.roleName)).toEqual(before);
    expect(log.changing()).toEqual([]);
    expect(stepMap(await stepsOf(world.db, queued.id)).get("identify")?.output).toMatchObject({
      kind: "role-sessions",
      roleName: seeded.roleName,
      roleId: seeded.roleId,
      sessionName: seeded.sessionName,
      policies: { attached: [], inline: [OTHER_POLICY.name], truncated: false },
    });
    // The plan says who is affected, and shows the document with the cutoff still to be fixed.
    const plan = planOf(waiting);
    expect(plan.reason).toMatch(new RegExp(`every session of role ${seeded.roleName} issued before the cutoff`));
    expect(plan.reason).toMatch(/every instance, task, function or person using the role is affected/);
    const planned = callsOf(plan);
    expect(planned["deactivate-key"]).toEqual([]);
    expect(planned["revoke-sessions"]).toEqual([
      {
        service: "iam",
        operation: "PutRolePolicy",
        params: { RoleName: seeded.roleName, PolicyName: policyName, PolicyDocument: JSON.stringify(denyBefore("(the time this step runs)")) },
      },
    ]);

    const approvedAt = Date.now();
    await approve(lane, waiting, "alice");
    expect((await waitForStatus(world.db, queued.id, ["succeeded", "failed", "escalated"])).status).toBe("succeeded");
    const finished = Date.now();
    const revoked = stepMap(await stepsOf(world.db, queued.id)).get("revoke-sessions")?.output as { cutoff: string; effect: string };
    // The cutoff is when act ran (to the next whole second), after the approval.
    expect(revoked.cutoff).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(Date.parse(revoked.cutoff)).toBeGreaterThanOrEqual(approvedAt);
    expect(Date.parse(revoked.cutoff)).toBeLessThanOrEqual(finished + 1000);
    expect(revoked.effect).toBe(plan.reason);
    // Exactly the deny written (moto does not enforce it), the role's own policy untouched.
    expect(await rolePolicies(iam, seeded.roleName)).toEqual({ ...before, [policyName]: denyBefore(revoked.cutoff) });
    expect(await statusesOf(queued.id)).toEqual({ identify: "succeeded", "deactivate-key": "skipped", "revoke-sessions": "succeeded", verify: "verified" });
    expect(await containedAt(queued.id)).toBeInstanceOf(Date);
    expect(log.changing()).toEqual(["PutRolePolicy"]);

    await release(lane, queued.id, async (releasePlan) => {
      expect(callsOf(releasePlan)).toEqual({
        "reactivate-key": [],
        "remove-revoke-policy": [{ service: "iam", operation: "DeleteRolePolicy", params: { RoleName: seeded.roleName, PolicyName: policyName } }],
      });
      expect(Object.keys(await rolePolicies(iam, seeded.roleName))).toEqual([OTHER_POLICY.name, policyName].sort());
    });
    expect(await rolePolicies(iam, seeded.roleName)).toEqual(before);
    expect(log.changing()).toEqual(["PutRolePolicy", "DeleteRolePolicy"]);
    await lane.stop();
  });
});

/** The deny IAM's "revoke active sessions" writes, as this service writes it. */
function denyBefore(cutoff: string): unknown {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "GuardDutyResponderRevokeSessionsIssuedBeforeCutoff",
        Effect: "Deny",
        Action: "*",
        Resource: "*",
        Condition: { DateLessThan: { "aws:TokenIssueTime": cutoff } },
      },
    ],
  };
}

describe("credentials the playbook must not act on", () => {
  it("escalates root, federated, a user's session token and another user's key with the reason, and writes nothing to IAM", async () => {
    const log = iamCallLog();
    const lane = await startLane(world, { awsMiddleware: (c) => { log.install(c); } });
    const owner = await seedUserKey(iam);
    const named = await seedUserKey(iam);
    const cases = [
      {
        code: "root_credentials",
        detail: accessKeyFinding({ accountId: ACCOUNT, userType: "Root", userName: "Root", principalId: ACCOUNT, accessKeyId: `AKIA${hexId(16).toUpperCase()}` }),
      },
      {
        code: "federated_user",
        detail: accessKeyFinding({ accountId: ACCOUNT, userType: "FederatedUser", userName: "bob", principalId: `${ACCOUNT}:bob`, accessKeyId: `ASIA${hexId(16).toUpperCase()}` }),
      },
      {
        code: "user_session_token",
        detail: accessKeyFinding({ accountId: ACCOUNT, userType: "IAMUser", userName: named.userName, principalId: `AIDA${hexId(17).toUpperCase()}`, accessKeyId: `ASIA${hexId(16).toUpperCase()}` }),
      },
      // The finding names one user and another user's key: neither is touched.
      { code: "not_users_key", detail: userKeyFinding({ ...named, accessKeyId: owner.accessKeyId }) },
    ];
    for (const c of cases) await lane.send(c.detail);
    for (const c of cases) {
      const queued = await remediationForFinding(world.db, findingIdOf(c.detail));
      const ended = await waitForStatus(world.db, queued.id, SETTLED);
      expect(ended.status, c.code).toBe("escalated");
      expect(ended.error, c.code).toMatch(new RegExp(`^escalated: identify: ${c.code}: `));
      expect(await statusesOf(queued.id), c.code).toEqual({ identify: "skipped" });
      const escalated = (await auditOf(world.db, queued.id)).filter((a) => a.action === "remediation.escalated");
      expect(escalated.map((a) => a.detail["step"]), c.code).toEqual(["identify"]);
      expect(String(escalated[0]?.detail["reason"]), c.code).toMatch(new RegExp(`^${c.code}: `));
    }
    expect(log.changing()).toEqual([]);
    // Only reads, and for the mismatched key only of the named user (never of the key's owner).
    expect(new Set(log.calls)).toEqual(new Set(["ListAccessKeys"]));
    expect(await keyStatus(iam, owner.userName, owner.accessKeyId)).toBe("Active");
    expect(await keyStatus(iam, named.userName, named.accessKeyId)).toBe("Active");
    await lane.stop();
  });
});

describe("other modes", () => {
  it("auto mode deactivates a user's key at once, but holds a role's revocation for a person, saying why", async () => {
    const auto = ["version: 1", 'accounts: { allow: ["*"] }', "rules:", "  - { name: keys-auto, match: { resourceTypes: [AccessKey] }, mode: auto }", ""].join("\n");
    const lane = await startLane(world, { policy: auto });
    const user = await seedUserKey(iam);
    const role = await seedRoleSession(iam);
    const userDetail = userKeyFinding(user);
    const roleDetail = roleSessionFinding(role);
    await lane.send(userDetail);
    await lane.send(roleDetail);

    const keyRemediation = await remediationForFinding(world.db, findingIdOf(userDetail));
    expect(keyRemediation.mode).toBe("auto");
    expect((await waitForStatus(world.db, keyRemediation.id, SETTLED)).status).toBe("succeeded");
    expect(await keyStatus(iam, user.userName, user.accessKeyId)).toBe("Inactive");

    // Every session of the role would end: identify's hold turns auto into an approval request.
    const roleRemediation = await remediationForFinding(world.db, findingIdOf(roleDetail));
    const held = await waitForStatus(world.db, roleRemediation.id, SETTLED);
    expect(held.status).toBe("awaiting_approval");
    expect(planOf(held).reason).toMatch(new RegExp(`^every session of role ${role.roleName} issued before the cutoff is denied every action`));
    const audit = (await auditOf(world.db, roleRemediation.id)).filter((a) => a.action === "remediation.held");
    expect(audit.map((a) => [a.detail["step"], a.detail["reason"]])).toEqual([["deactivate-key", planOf(held).reason]]);
    expect(Object.keys(await rolePolicies(iam, role.roleName))).toEqual([OTHER_POLICY.name]);
    await lane.stop();
  });

  it("dry-run mode records the calls it would make and changes nothing", async () => {
    const dry = ["version: 1", 'accounts: { allow: ["*"] }', "rules:", "  - { name: keys-dry, match: { resourceTypes: [AccessKey] }, mode: dry-run }", ""].join("\n");
    const log = iamCallLog();
    const lane = await startLane(world, { policy: dry, awsMiddleware: (c) => { log.install(c); } });
    const role = await seedRoleSession(iam);
    const detail = roleSessionFinding(role);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));
    const done = await waitForStatus(world.db, queued.id, [...SETTLED, "dry_run"]);
    expect(done.status).toBe("dry_run");
    const steps = stepMap(await stepsOf(world.db, queued.id));
    expect(steps.get("revoke-sessions")?.output).toMatchObject({
      dryRun: true,
      calls: [{ service: "iam", operation: "PutRolePolicy", params: { RoleName: role.roleName, PolicyDocument: JSON.stringify(denyBefore("(the time this step runs)")) } }],
      // IAM has no DryRun: said so, not pretended.
      permissions: [{ permitted: true, detail: "PutRolePolicy: no DryRun for iam; not checked" }],
    });
    expect(log.changing()).toEqual([]);
    expect(Object.keys(await rolePolicies(iam, role.roleName))).toEqual([OTHER_POLICY.name]);
    await lane.stop();
  });
});
