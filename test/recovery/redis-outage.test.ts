// Redis goes away under a worker in the middle of a step (cut with a TCP proxy between the worker
// and Redis), long enough for the worker's per-resource lock to lapse. The step cannot go on under
// a lock it no longer holds; that is our infrastructure failing, not the remediation: no attempt
// is spent, and once Redis is back the job carries on and the remediation succeeds. Longer still,
// BullMQ's own job lock lapses too: the move to delayed is refused, and BullMQ's stalled check
// hands the job back (the reconciler would be the backstop past maxStalledCount). A worker stopped
// while a sweep waits on Redis still stops within its deadline.
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import { containmentProblems, startAwsProxy, startTcpProxy, viewInstance, waitUntil, type AwsProxy, type TcpProxy } from "../support/index.js";
import {
  ACCOUNT,
  auditOf,
  createEngineWorld,
  findingFor,
  findingIdOf,
  holdNth,
  remediationForFinding,
  seed,
  startLane,
  startWorkerInProcess,
  stepsOf,
  waitForStatus,
  type EngineWorld,
  type Lane,
  type RunningWorker,
} from "../worker/engine-harness.js";

let world: EngineWorld;
let aws: AwsProxy;
let redis: TcpProxy;
const running: { lane: Lane; worker: RunningWorker }[] = [];

beforeAll(async () => {
  world = await createEngineWorld();
  aws = await startAwsProxy(world.moto.endpoint);
  const target = new URL(world.redis.url);
  redis = await startTcpProxy(target.hostname, Number(target.port || 6379));
});

afterEach(async () => {
  redis.restore();
  aws.clear();
  for (const { lane, worker } of running.splice(0)) {
    await worker.stop();
    await lane.stop();
  }
});

afterAll(async () => {
  await Promise.allSettled([aws.close(), redis.close()]);
  await world.close();
});

async function outageMidStep(jobLockMs: string, lapsed: (lane: Lane, jobId: string) => string[]): Promise<RunningWorker> {
  const lane = await startLane(world, { worker: false });
  const instance = await seed(world);
  const held = holdNth(aws, "CreateSnapshot", 1);
  const worker = await startWorkerInProcess(
    lane.workerEnv(aws.endpoint, { REDIS_URL: redis.urlThrough(world.redis.url), WORKER_LOCK_TTL_MS: "1000", WORKER_JOB_LOCK_MS: jobLockMs }),
  );
  running.push({ lane, worker });
  const detail = findingFor(instance);
  await lane.send(detail);
  const r = await remediationForFinding(world.db, findingIdOf(detail));
  const evidenceJobId = `${r.job_id}-evidence`;

  const { hold } = await held;
  redis.cut();
  // Locks lapse in Redis (read directly, not through the proxy): the worker could not extend them.
  const keys = [`${lane.prefix}:limits:lock:resource:${ACCOUNT}/us-east-1/${instance.instanceId}`, ...lapsed(lane, evidenceJobId)];
  await waitUntil(async () => (await world.redis.connection.exists(...keys)) === 0, { what: "the locks to lapse", attempts: 200 });
  hold.release();
  redis.restore();
  await worker.logs.waitFor((l) => l.msg === "remediation postponed" && l["why"] === "infrastructure", "the job postponed for the lost lock", 60_000);

  expect((await waitForStatus(world.db, r.id, ["succeeded", "failed"], 600)).status).toBe("succeeded");
  const evidence = (await lane.jobs()).find((j) => j.id === evidenceJobId);
  expect(await evidence?.getState()).toBe("completed");
  expect(evidence?.attemptsMade, "completed at its first attempt").toBe(1);
  const snapshotStep = (await stepsOf(world.db, r.id)).find((s) => s.name === "snapshot-volumes");
  expect(snapshotStep?.status).toMatch(/^(succeeded|skipped)$/);
  expect((await auditOf(world.db, r.id)).filter((e) => e.action === "step.retrying").map((e) => e.code)).toEqual(["LockLostError"]);
  const view = await viewInstance(world.aws, instance);
  expect(containmentProblems(view, instance, { findingId: r.finding_id, remediationId: r.id })).toEqual([]);
  return worker;
}

describe("a Redis outage in the middle of a step", () => {
  it("loses the resource lock, spends no attempt, and the remediation succeeds once Redis is back", async () => {
    const worker = await outageMidStep("30000", () => []);
    expect(worker.logs.count((l) => l.msg === "could not postpone the job; BullMQ will find it stalled")).toBe(0);
  }, 120_000);

  it("outlasting BullMQ's job lock too: the job is handed back as stalled, spends no attempt, and the remediation succeeds", async () => {
    const worker = await outageMidStep("2000", (lane, jobId) => [`${lane.prefix}:instance:${jobId}:lock`]);
    expect(worker.logs.count((l) => l.msg === "could not postpone the job; BullMQ will find it stalled")).toBeGreaterThanOrEqual(1);
  }, 120_000);
});

describe("stopping a worker while Redis is away", () => {
  it("the deadline bounds a sweep stuck on Redis: stop() returns instead of waiting for Redis to come back", async () => {
    const lane = await startLane(world, { worker: false });
    const worker = await startWorkerInProcess(
      lane.workerEnv(aws.endpoint, { REDIS_URL: redis.urlThrough(world.redis.url), WORKER_EGRESS_SWEEP_MS: "1000", WORKER_LOCK_TTL_MS: "1000" }),
    );
    running.push({ lane, worker });
    // An open egress record (a worker died holding the rule): the egress sweep takes the VPC's
    // lock in Redis for it, on the worker's connection, whose commands wait while Redis is away.
    const vpcId = `vpc-${Math.random().toString(16).slice(2, 19).padEnd(17, "0")}`;
    await world.db.pool.query(
      `INSERT INTO audit_events (at, actor, action, detail, aws_request_ids) VALUES (now() - interval '1 hour', 'worker', 'isolation.egress_opened', $1::jsonb, '{}')`,
      [JSON.stringify({ accountId: ACCOUNT, region: "us-east-1", vpcId, groupIds: ["sg-0123456789abcdef0"] })],
    );
    // Hold the sweep in Postgres (its ledger read waits on the table lock) until Redis is cut.
    // Watched from another connection: inside the holder's transaction pg_stat_activity is a snapshot.
    const holder = await world.db.pool.connect();
    let stopping: Promise<void> | undefined;
    try {
      await holder.query("BEGIN");
      await holder.query("LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE");
      await waitUntil(
        async () =>
          (await world.db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%DISTINCT ON%'`)).rowCount !== 0,
        { what: "the egress sweep to wait on the ledger", attempts: 200 },
      );
      redis.cut();
      stopping = worker.service.stop(1_000);
      await holder.query("COMMIT");
    } finally {
      holder.release();
    }
    // The sweep now waits on Redis for the VPC's lock; the deadline ends the stop all the same.
    await stopping;
    expect(await worker.logs.waitFor((l) => l.msg === "worker stopped", "the worker's last log line")).toBeTruthy();
  });
});
