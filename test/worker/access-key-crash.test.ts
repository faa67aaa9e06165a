// A worker process killed (SIGKILL) mid-containment of credentials, after the approval: a second
// process picks the stalled job up and resumes at the cursor, and IAM is changed once. The kill
// lands exactly where chosen: the first worker talks to moto through a proxy that holds one
// request (the change itself, so it never reaches moto; or the read right after it, so the change
// is in IAM but not recorded), and the process is killed while it waits. The second worker talks
// through a proxy that holds nothing and counts what it calls.
//
// moto stores the key status and the deny policy exactly and enforces neither (../shared/MOTO.md):
// what is asserted is the state IAM holds and how often each change reached it.
import { approveRemediation } from "@gdr/core/approvals/decide";
import { afterAll, beforeAll, describe, it, type ExpectStatic } from "vitest";
import { startAwsProxy, type AwsProxy } from "../support/index.js";
import { iamClients, keyStatus, OTHER_POLICY, roleSessionFinding, rolePolicies, seedRoleSession, seedUserKey, userKeyFinding, type IamClients, type SeededRoleSession } from "../support/seed/access-key.js";
import {
  createEngineWorld,
  findingIdOf,
  holdAfter,
  holdNth,
  remediationForFinding,
  spawnWorker,
  startLane,
  stepMap,
  stepsOf,
  waitForStatus,
  type EngineWorld,
  type Held,
  type WorkerProcess,
} from "./engine-harness.js";

/** A dead worker's job is found stalled within about this long, and its resource lock expires. */
const CRASH_ENV = { WORKER_JOB_LOCK_MS: "2000", WORKER_LOCK_TTL_MS: "1000" };

interface KillPoint {
  name: string;
  credentials: "user-key" | "role-sessions";
  /** The change that must reach IAM exactly once over both processes. */
  change: "UpdateAccessKey" | "PutRolePolicy";
  /** The step running at the kill, resumed by the second process. */
  resumed: "deactivate-key" | "revoke-sessions";
  /** The resumed step finds its effect in IAM already ("already done") instead of acting. */
  alreadyDone: boolean;
  hold(proxy: AwsProxy): Promise<Held>;
}

const KILL_POINTS: KillPoint[] = [
  { name: "UpdateAccessKey held", credentials: "user-key", change: "UpdateAccessKey", resumed: "deactivate-key", alreadyDone: false, hold: (p) => holdNth(p, "UpdateAccessKey", 1) },
  {
    name: "key deactivated in IAM, not recorded",
    credentials: "user-key",
    change: "UpdateAccessKey",
    resumed: "deactivate-key",
    alreadyDone: true,
    hold: (p) => holdAfter(p, { operation: "UpdateAccessKey", n: 1 }, "ListAccessKeys"),
  },
  { name: "PutRolePolicy held", credentials: "role-sessions", change: "PutRolePolicy", resumed: "revoke-sessions", alreadyDone: false, hold: (p) => holdNth(p, "PutRolePolicy", 1) },
  {
    name: "sessions revoked in IAM, not recorded",
    credentials: "role-sessions",
    change: "PutRolePolicy",
    resumed: "revoke-sessions",
    alreadyDone: true,
    hold: (p) => holdAfter(p, { operation: "PutRolePolicy", n: 1 }, "GetRolePolicy"),
  },
];

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

async function crashAndResume(point: KillPoint, expect: ExpectStatic): Promise<void> {
  const lane = await startLane(world, { worker: false });
  const first = await startAwsProxy(world.moto.endpoint);
  const second = await startAwsProxy(world.moto.endpoint);
  const workers: WorkerProcess[] = [];
  try {
    const user = point.credentials === "user-key" ? await seedUserKey(iam) : null;
    const role = user === null ? await seedRoleSession(iam) : null;
    const detail = user !== null ? userKeyFinding(user) : roleSessionFinding(role as SeededRoleSession);
    const a = await spawnWorker(lane.workerEnv(first.endpoint, CRASH_ENV));
    workers.push(a);
    await lane.send(detail);
    const r = await remediationForFinding(world.db, findingIdOf(detail));
    const waiting = await waitForStatus(world.db, r.id, ["awaiting_approval", "failed", "escalated", "skipped"]);
    expect(waiting.status).toBe("awaiting_approval");

    const holding = point.hold(first);
    const decision = await approveRemediation(world.db.prisma, lane.queues, { remediationId: r.id, actor: "alice", reason: "contain it", planHash: waiting.plan_hash ?? "" });
    expect(decision.ok).toBe(true);
    await holding;
    const atKill = stepMap(await stepsOf(world.db, r.id));
    await a.kill();
    expect(atKill.get(point.resumed)).toMatchObject({ status: "running", attempts: 1 });

    const b = await spawnWorker(lane.workerEnv(second.endpoint, CRASH_ENV));
    workers.push(b);
    expect((await waitForStatus(world.db, r.id, ["succeeded", "failed", "escalated"], 400)).status).toBe("succeeded");
    await b.stop();

    // The change reached IAM once over both processes (a held request never reached it).
    const reached = first.count(point.change) - (point.alreadyDone ? 0 : 1) + second.count(point.change);
    expect(reached, `${point.change} calls that reached moto`).toBe(1);

    const steps = stepMap(await stepsOf(world.db, r.id));
    expect(steps.get(point.resumed)).toMatchObject({ attempts: 2, status: point.alreadyDone ? "skipped" : "succeeded" });
    expect(steps.get("identify")).toMatchObject({ attempts: 1, status: "succeeded" });
    expect(steps.get("verify")?.status).toBe("verified");

    if (user) {
      expect(await keyStatus(iam, user.userName, user.accessKeyId)).toBe("Inactive");
      // Killed before or after UpdateAccessKey, the key is this remediation's doing: the mark
      // written before the call (an audit event) tells the restart so, and release will reactivate it.
      expect(steps.get("deactivate-key")?.output).toMatchObject({ deactivatedBy: "this remediation" });
      expect(await world.db.pool.query("SELECT 1 FROM audit_events WHERE remediation_id = $1 AND action = 'key.deactivating'", [r.id])).toMatchObject({ rowCount: point.alreadyDone ? 1 : 2 });
    }
    if (role) {
      // Exactly one revocation, with the cutoff on record (after a restart: the one IAM holds).
      const cutoff = (steps.get("revoke-sessions")?.output as { cutoff: string }).cutoff;
      const policies = await rolePolicies(iam, role.roleName);
      expect(Object.keys(policies)).toEqual([OTHER_POLICY.name, `guardduty-responder-revoke-${r.id}`].sort());
      expect(policies[`guardduty-responder-revoke-${r.id}`]).toMatchObject({ Statement: [{ Effect: "Deny", Condition: { DateLessThan: { "aws:TokenIssueTime": cutoff } } }] });
    }
  } finally {
    for (const w of workers) await w.kill();
    await Promise.allSettled([first.close(), second.close()]);
    await lane.stop();
  }
}

describe.concurrent("a worker killed while containing credentials, resumed by another process", () => {
  for (const point of KILL_POINTS) {
    it(`${point.name}: resumes ${point.resumed}, IAM changed once`, async ({ expect }) => {
      await crashAndResume(point, expect);
    }, 120_000);
  }
});
