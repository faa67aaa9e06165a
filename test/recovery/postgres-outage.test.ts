// Postgres goes away for longer than a job's whole retry budget while a worker is containing
// instances (cut with a TCP proxy between the worker and Postgres, in the middle of a step that has
// already made its change in AWS). The outage must spend no attempt: every job is postponed with
// backoff, more times than it has attempts, and none fails. When Postgres is back, every
// remediation finishes, and nothing was done twice in AWS (one snapshot per volume, one isolation
// group per VPC).
import { queueFor } from "@gdr/core/queues/queues";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  containmentProblems,
  seedVpc,
  startAwsProxy,
  startTcpProxy,
  viewInstance,
  waitUntil,
  type AwsProxy,
  type TcpProxy,
} from "../support/index.js";
import {
  createEngineWorld,
  findingFor,
  findingIdOf,
  holdNth,
  metricValue,
  remediation,
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
let lane: Lane;
let aws: AwsProxy;
let pg: TcpProxy;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  world = await createEngineWorld();
  aws = await startAwsProxy(world.moto.endpoint);
  const target = new URL(world.db.url);
  pg = await startTcpProxy(target.hostname, Number(target.port || 5432));
});

beforeEach(async () => {
  lane = await startLane(world, { worker: false });
  // The worker reaches Postgres through the proxy, AWS through the other; ingest and the test
  // itself go straight to Postgres.
  worker = await startWorkerInProcess(
    lane.workerEnv(aws.endpoint, {
      DATABASE_URL: pg.urlThrough(world.db.url),
      // Backoff 200 ms doubling up to 1 s: the jobs go through their 8 attempts' worth of tries quickly.
      WORKER_POSTPONE_MS: "200",
      WORKER_OUTAGE_BACKOFF_MAX_MS: "1000",
    }),
  );
});

afterEach(async () => {
  pg.restore();
  aws.clear();
  await worker?.stop();
  await lane.stop();
});

afterAll(async () => {
  await Promise.allSettled([aws.close(), pg.close()]);
  await world.close();
});

/** Every unfinished job of the lane has been tried more than `times` times while Postgres is away. */
async function waitForOutageTries(times: (attempts: number) => number, what: string): Promise<void> {
  await waitUntil(
    async () => {
      const open = (await lane.jobs()).filter((j) => j.finishedOn === undefined);
      return open.length > 0 && open.every((j) => ((j.data as { outages?: number }).outages ?? 0) > times(j.opts.attempts ?? 1));
    },
    { attempts: 300, intervalMs: 100, what },
  );
}

describe("a Postgres outage longer than the retry budget, during a worker run", () => {
  it("spends no attempt on the outage; afterwards every remediation succeeds, nothing duplicated in AWS", async () => {
    // Two instances share a VPC (and so its isolation group), a third has a VPC of its own.
    const shared = await seedVpc(world.aws);
    const instances = [await seed(world, { vpc: shared }), await seed(world, { vpc: shared }), await seed(world)];
    const held = holdNth(aws, "CreateSnapshot", 1);
    const details = instances.map((i) => findingFor(i));
    for (const d of details) await lane.send(d);
    const rows = await Promise.all(details.map((d) => remediationForFinding(world.db, findingIdOf(d))));

    // One evidence job is inside snapshot-volumes, its first snapshot on its way to AWS: Postgres
    // goes away, then AWS answers. The snapshot exists; its step cannot be recorded.
    const { hold } = await held;
    pg.cut();
    hold.release();

    // The outage outlasts the retry budget: every unfinished job has been tried more times than it
    // has attempts, and not one attempt was spent.
    await waitForOutageTries((attempts) => attempts, "every unfinished job tried more often than its attempts while Postgres is away");
    // (BullMQ counts the attempt that completes a job: 1 for jobs done before the outage.)
    for (const job of await lane.jobs()) {
      const state = await job.getState();
      expect(state, job.id).not.toBe("failed");
      expect(job.attemptsMade, job.id).toBe(state === "completed" ? 1 : 0);
    }

    pg.restore();
    for (const r of rows) expect((await waitForStatus(world.db, r.id, ["succeeded", "failed"], 600)).status).toBe("succeeded");

    const jobs = await lane.jobs();
    expect(jobs.length).toBeGreaterThanOrEqual(rows.length * 2); // containment and evidence jobs
    for (const job of jobs) {
      expect(await job.getState(), job.id).toBe("completed");
      expect(job.attemptsMade, `${job.id} completed at its first attempt`).toBe(1);
    }
    expect(metricValue(await worker?.metrics() ?? "", "gdr_worker_jobs_total", { outcome: "postponed_outage" })).toBeGreaterThan(8);
    for (const [i, instance] of instances.entries()) {
      const r = await remediation(world.db, rows[i]?.id ?? "");
      const view = await viewInstance(world.aws, instance);
      expect(containmentProblems(view, instance, { findingId: r.finding_id, remediationId: r.id }), instance.instanceId).toEqual([]);
    }
  }, 180_000);

  it("records a step that failed for good while Postgres was away once it is back: failed with the AWS code, no attempt spent on the outage", async () => {
    const instance = await seed(world);
    const held = holdNth(aws, "CreateSnapshot", 1);
    const detail = findingFor(instance);
    await lane.send(detail);
    const r = await remediationForFinding(world.db, findingIdOf(detail));

    // The first snapshot is on its way; Postgres goes away; the second volume's snapshot is refused
    // for good (a KMS key policy, say). The step-runner's failure path needs Postgres to record it.
    const { hold } = await held;
    pg.cut();
    aws.fail("CreateSnapshot", { status: 403, code: "UnauthorizedOperation", message: "not allowed to snapshot this volume" });
    hold.release();
    await waitForOutageTries(() => 3, "the evidence job postponed three times while Postgres is away");
    const [evidence] = (await lane.jobs()).filter((j) => j.finishedOn === undefined);
    expect(evidence?.id).toBe(`${r.job_id}-evidence`);
    expect(evidence?.attemptsMade).toBe(0);
    expect((await remediation(world.db, r.id)).status).toBe("running");

    pg.restore();
    const failed = await waitForStatus(world.db, r.id, ["succeeded", "failed"], 600);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/^snapshot-volumes: UnauthorizedOperation/);
    const snapshotStep = (await stepsOf(world.db, r.id)).find((s) => s.name === "snapshot-volumes");
    expect(snapshotStep).toMatchObject({ status: "failed", error_class: "fatal", error_code: "UnauthorizedOperation" });
    // One attempt, the one that failed for good: the outage spent none.
    const job = await queueFor(lane.queues, "instance").getJob(`${r.job_id}-evidence`);
    await waitUntil(async () => (await job?.getState()) === "failed", { what: "the evidence job to be failed in BullMQ" });
    const final = await queueFor(lane.queues, "instance").getJob(`${r.job_id}-evidence`);
    expect(final?.attemptsMade).toBe(1);
    expect((final?.data as { outages?: number }).outages).toBeGreaterThanOrEqual(3);
    // The snapshot taken before the refusal is there once, not again for the retried step.
    const view = await viewInstance(world.aws, instance);
    expect(view.snapshots.length).toBe(1);
  }, 180_000);
});
