// BullMQ is transport, Postgres the record: jobs that Redis lost (a restart without its data after
// the outbox had dispatched them) or that BullMQ failed while the remediation was running (past
// maxStalledCount after a worker died) are found by the reconciler every worker runs, and the
// remediations are carried on from their cursor to the end, once, with nothing done twice in AWS.
import { UnrecoverableError } from "bullmq";
import { queueFor } from "@gdr/core/queues/queues";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { containmentProblems, deleteByPrefix, startAwsProxy, viewInstance } from "../support/index.js";
import {
  CONTAINMENT_STEPS,
  createEngineWorld,
  findingFor,
  findingIdOf,
  holdNth,
  outboxOf,
  remediationForFinding,
  seed,
  spawnWorker,
  startLane,
  stepsOf,
  waitForStatus,
  type EngineWorld,
  type Lane,
  type RemediationRow,
} from "../worker/engine-harness.js";
import { waitUntil } from "../support/index.js";
import { reconcilerEvents, recoveriesOf, settleLeftovers } from "./reconciler-world.js";

/** A worker whose reconciler runs every second and waits out a short grace period. */
const RECONCILING = {
  WORKER_RECONCILE_MS: "1000",
  WORKER_JOB_LOCK_MS: "2000",
  WORKER_LOCK_TTL_MS: "1000",
  WORKER_RECONCILE_GRACE_MS: "3000",
};

let world: EngineWorld;
const lanes: Lane[] = [];

beforeAll(async () => {
  world = await createEngineWorld();
});

afterEach(async () => {
  await Promise.allSettled(lanes.splice(0).map((l) => l.stop()));
  await settleLeftovers(world);
});

afterAll(async () => {
  await world.close();
});

async function lane(): Promise<Lane> {
  const l = await startLane(world, { worker: false });
  lanes.push(l);
  return l;
}

async function expectContained(r: RemediationRow, instance: Awaited<ReturnType<typeof seed>>): Promise<void> {
  const view = await viewInstance(world.aws, instance);
  expect(containmentProblems(view, instance, { findingId: r.finding_id, remediationId: r.id }), instance.instanceId).toEqual([]);
}

describe("jobs lost or failed in BullMQ while Postgres says the work is owed", () => {
  it("Redis restarted without its data after dispatch: the reconciler re-enqueues the queued remediations and they run", async () => {
    const l = await lane();
    const instances = [await seed(world), await seed(world)];
    const details = instances.map((i) => findingFor(i));
    for (const d of details) await l.send(d);
    const rows = await Promise.all(details.map((d) => remediationForFinding(world.db, findingIdOf(d))));
    await waitUntil(async () => (await Promise.all(rows.map((r) => outboxOf(world.db, r.id)))).every((o) => o.every((x) => x.dispatched)), {
      what: "the outbox dispatched",
    });
    expect((await l.jobs()).map((j) => j.id).sort()).toEqual(rows.map((r) => r.job_id).sort());

    // Redis comes back empty: every key of the lane gone, the jobs with them.
    await deleteByPrefix(world.redis.connection, `${l.prefix}:`);
    expect(await l.jobs()).toEqual([]);

    await l.restartWorker(RECONCILING);
    for (const r of rows) expect((await waitForStatus(world.db, r.id, ["succeeded", "failed"], 600)).status).toBe("succeeded");
    for (const [i, r] of rows.entries()) {
      expect(await recoveriesOf(world, r.id)).toMatchObject({ recoveries: 1 });
      expect(await reconcilerEvents(world, r.id)).toMatchObject([
        { action: "remediation.requeued", detail: { status: "queued", why: "lost", action: "contain", jobId: `${r.job_id}-recovery-1`, jobs: [] } },
      ]);
      const instance = instances[i];
      if (instance) await expectContained(r, instance);
    }
    // The recovery contained, and handed over to its evidence job, as any containing job does.
    const queue = queueFor(l.queues, "instance");
    for (const r of rows) {
      expect(await queue.getJobState(`${r.job_id}-recovery-1`)).toBe("completed");
      expect(await queue.getJobState(`${r.job_id}-recovery-1-evidence`)).toBe("completed");
    }
  }, 120_000);

  it("a job BullMQ failed while its remediation is running: resumed at its cursor, steps done before not run again", async () => {
    const l = await lane();
    const proxy = await startAwsProxy(world.moto.endpoint);
    try {
      const instance = await seed(world);
      const holding = holdNth(proxy, "CreateSnapshot", 1);
      // A worker process dies inside snapshot-volumes (its snapshot call never reaches AWS)...
      const dying = await spawnWorker(l.workerEnv(proxy.endpoint, { WORKER_JOB_LOCK_MS: "2000", WORKER_LOCK_TTL_MS: "1000" }));
      const detail = findingFor(instance);
      await l.send(detail);
      const r = await remediationForFinding(world.db, findingIdOf(detail));
      await holding;
      await dying.kill();
      const atDeath = await stepsOf(world.db, r.id);
      expect(atDeath.at(-1)).toMatchObject({ name: "snapshot-volumes", status: "running" });
      // ...and BullMQ fails its job, as it does once a job stalled past maxStalledCount.
      const evidenceJobId = `${r.job_id}-evidence`;
      const job = await queueFor(l.queues, "instance").getJob(evidenceJobId);
      if (!job) throw new Error(`no job ${evidenceJobId}`);
      await job.moveToFailed(new UnrecoverableError("job stalled more than allowable limit"), "0", false);
      expect(await job.getState()).toBe("failed");
      expect((await recoveriesOf(world, r.id)).status).toBe("running");

      await l.restartWorker(RECONCILING);
      expect((await waitForStatus(world.db, r.id, ["succeeded", "failed"], 600)).status).toBe("succeeded");

      expect(await reconcilerEvents(world, r.id)).toMatchObject([
        {
          action: "remediation.requeued",
          detail: {
            status: "running",
            why: "failed",
            action: "evidence",
            jobId: `${r.job_id}-recovery-1`,
            jobs: expect.arrayContaining([{ id: evidenceJobId, state: "failed", failedReason: "job stalled more than allowable limit" }]) as unknown,
          },
        },
      ]);
      // Resumed at the cursor: the steps done before the death were not run again.
      const steps = await stepsOf(world.db, r.id);
      expect(steps.map((s) => s.name)).toEqual([...CONTAINMENT_STEPS]);
      for (const s of steps) expect(s.attempts, s.name).toBe(s.name === "snapshot-volumes" ? 2 : 1);
      for (const before of atDeath.slice(0, -1)) {
        expect(steps.find((s) => s.name === before.name)?.finished_at, before.name).toEqual(before.finished_at);
      }
      await expectContained(r, instance);
    } finally {
      await proxy.close();
    }
  }, 120_000);
});
