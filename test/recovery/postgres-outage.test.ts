// Postgres goes away for longer than a job's whole retry budget while a worker is containing
// instances (cut with a TCP proxy between the worker and Postgres, in the middle of a step that has
// already made its change in AWS). The outage must spend no attempt: every job is postponed with
// backoff, more times than it has attempts, and none fails. When Postgres is back, every
// remediation finishes, and nothing was done twice in AWS (one snapshot per volume, one isolation
// group per VPC).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
  lane = await startLane(world, { worker: false });
  aws = await startAwsProxy(world.moto.endpoint);
  const target = new URL(world.db.url);
  pg = await startTcpProxy(target.hostname, Number(target.port || 5432));
});

afterAll(async () => {
  pg.restore();
  await worker?.stop();
  await Promise.allSettled([aws.close(), pg.close()]);
  await lane.stop();
  await world.close();
});

describe("a Postgres outage longer than the retry budget, during a worker run", () => {
  it("spends no attempt on the outage; afterwards every remediation succeeds, nothing duplicated in AWS", async () => {
    // Two instances share a VPC (and so its isolation group), a third has a VPC of its own.
    const shared = await seedVpc(world.aws);
    const instances = [await seed(world, { vpc: shared }), await seed(world, { vpc: shared }), await seed(world)];
    const held = holdNth(aws, "CreateSnapshot", 1);
    worker = await startWorkerInProcess(
      lane.workerEnv(aws.endpoint, {
        DATABASE_URL: pg.urlThrough(world.db.url),
        // Backoff 200 ms doubling up to 1 s: the jobs go through their 8 attempts' worth of tries quickly.
        WORKER_POSTPONE_MS: "200",
        WORKER_OUTAGE_BACKOFF_MAX_MS: "1000",
      }),
    );
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
    await waitUntil(
      async () => {
        const open = (await lane.jobs()).filter((j) => j.finishedOn === undefined);
        return open.length > 0 && open.every((j) => ((j.data as { outages?: number }).outages ?? 0) > (j.opts.attempts ?? 1));
      },
      { attempts: 300, intervalMs: 100, what: "every unfinished job tried more often than its attempts while Postgres is away" },
    );
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
    expect(metricValue(await worker.metrics(), "gdr_worker_jobs_total", { outcome: "postponed_outage" })).toBeGreaterThan(8);
    for (const [i, instance] of instances.entries()) {
      const r = await remediation(world.db, rows[i]?.id ?? "");
      const view = await viewInstance(world.aws, instance);
      expect(containmentProblems(view, instance, { findingId: r.finding_id, remediationId: r.id }), instance.instanceId).toEqual([]);
    }
  }, 180_000);
});
