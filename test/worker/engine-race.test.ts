// Two worker processes (real children) on one queue: 20 instances in 3 VPCs are each contained
// exactly once, with one isolation group per VPC, and both processes take part. Two different
// findings on one instance make two remediations that never run at the same time: the
// per-resource lock in Redis serialises them across processes.
import { createPauseSwitch } from "@gdr/core/control/pause";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  seedVpc,
  startAwsProxy,
  waitUntil,
  type AwsProxy,
  type SeededInstance,
  type SeededVpc,
  RESPONDER_TAG,
  containmentProblems,
  viewInstance,
  vpcGroups,
  ISOLATION_GROUP_NAME,
} from "../support/index.js";
import { TRANSIT_GROUP_NAME } from "../support/seed/instance.js";
import {
  CONTAINMENT_STEPS,
  createEngineWorld,
  findingFor,
  findingIdOf,
  remediationsOf,
  seed,
  spawnWorker,
  startLane,
  stepsOf,
  type EngineWorld,
  type Lane,
  type RemediationRow,
  type WorkerProcess,
} from "./engine-harness.js";

const INSTANCES = 20;
const VPCS = 3;

let world: EngineWorld;
let lane: Lane;
const proxies: AwsProxy[] = [];
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  world = await createEngineWorld();
  lane = await startLane(world, { worker: false });
  // Each process talks to moto through a proxy of its own, which counts its calls.
  for (let i = 0; i < 2; i++) proxies.push(await startAwsProxy(world.moto.endpoint));
  workers.push(...(await Promise.all(proxies.map((p) => spawnWorker(lane.workerEnv(p.endpoint))))));
});

afterAll(async () => {
  await Promise.allSettled(workers.map((w) => w.stop()));
  await Promise.allSettled(proxies.map((p) => p.close()));
  await world.close();
});

/** Calls of an operation over both processes. */
const calls = (operation: string): number => proxies.reduce((sum, p) => sum + p.count(operation), 0);

async function waitForAll(findingIds: readonly string[], attempts: number): Promise<RemediationRow[]> {
  let rows: RemediationRow[] = [];
  await waitUntil(
    async () => {
      rows = (await Promise.all(findingIds.map((id) => remediationsOf(world.db, { findingId: id })))).flat();
      return rows.length === findingIds.length && rows.every((r) => ["succeeded", "failed", "skipped"].includes(r.status));
    },
    { attempts, intervalMs: 200, what: `${findingIds.length} remediations to finish` },
  );
  return rows;
}

describe("two worker processes", () => {
  it("contain 20 instances in 3 VPCs, each exactly once, with one containment and one transit group per VPC", async () => {
    const vpcs: SeededVpc[] = [];
    for (let i = 0; i < VPCS; i++) vpcs.push(await seedVpc(world.aws));
    const instances: SeededInstance[] = [];
    for (let i = 0; i < INSTANCES; i++) {
      const vpc = vpcs[i % VPCS];
      if (!vpc) throw new Error("unreachable");
      instances.push(await seed(world, { vpc, autoScaling: false, targetGroup: false }));
    }
    const details = instances.map((i) => findingFor(i));
    await Promise.all(details.map((d) => lane.send(d)));

    const rows = await waitForAll(details.map(findingIdOf), 600);
    expect(rows.map((r) => r.status)).toEqual(rows.map(() => "succeeded"));

    // AWS: every instance contained once (one snapshot per volume, its own tags), one group per VPC.
    for (const seeded of instances) {
      const r = rows.find((x) => x.resource_key === seeded.instanceId);
      if (!r) throw new Error(`no remediation for ${seeded.instanceId}`);
      expect(containmentProblems(await viewInstance(world.aws, seeded), seeded, { findingId: r.finding_id, remediationId: r.id })).toEqual([]);
    }
    for (const vpc of vpcs) {
      const groups = await vpcGroups(world.aws, vpc.vpcId);
      expect(groups.filter((g) => g.name === ISOLATION_GROUP_NAME)).toHaveLength(1);
      expect(groups.filter((g) => g.name === TRANSIT_GROUP_NAME)).toHaveLength(1);
    }
    // Two groups per VPC (containment and transit), each created once: creation runs under the VPC's lock.
    expect(calls("CreateSecurityGroup")).toBe(2 * VPCS);
    expect(calls("CreateSnapshot")).toBe(2 * INSTANCES);
    expect(calls("CreateTags")).toBe(INSTANCES);

    // Postgres: no step finished twice in any remediation, and every step finished once.
    const { rows: twice } = await world.db.pool.query<{ remediation_id: string; step: string; n: number }>(
      `SELECT remediation_id::text AS remediation_id, detail->>'step' AS step, count(*)::int AS n
         FROM audit_events
        WHERE action IN ('step.succeeded', 'step.skipped') AND remediation_id = ANY($1::uuid[])
        GROUP BY 1, 2 HAVING count(*) > 1`,
      [rows.map((r) => r.id)],
    );
    expect(twice).toEqual([]);
    for (const r of rows) {
      const steps = await stepsOf(world.db, r.id);
      expect(steps.map((s) => s.name)).toEqual([...CONTAINMENT_STEPS]);
      for (const s of steps) expect(s.attempts, `${r.resource_key} ${s.name}`).toBe(1);
    }

    // Both processes took part, and each job finished in exactly one of them: every containing
    // job handed over, every evidence job it handed over to succeeded.
    const byWorker = workers.map((w) => w.finished().map((f) => `${f.jobId} ${f.outcome}`));
    for (const [i, jobs] of byWorker.entries()) expect(jobs.length, `jobs finished by worker ${i + 1}`).toBeGreaterThan(0);
    expect(byWorker.flat().sort()).toEqual(rows.flatMap((r) => [`${r.job_id} handed_over`, `${r.job_id}-evidence succeeded`]).sort());
    for (const [i, p] of proxies.entries()) expect(p.count("ModifyNetworkInterfaceAttribute"), `swaps by worker ${i + 1}`).toBeGreaterThan(0);
  });

  it("runs two findings on one instance never at the same time (the per-resource lock)", async () => {
    const seeded = await seed(world, { autoScaling: false, targetGroup: false });
    const pause = createPauseSwitch(world.redis.connection, { queuePrefix: lane.prefix, prisma: world.db.prisma });
    // Held at the kill switch until both jobs are waiting, so that they are let go together.
    await pause.pause("test", "line the two jobs up");
    const details = [findingFor(seeded, { type: "CryptoCurrency:Runtime/BitcoinTool.B!DNS" }), findingFor(seeded, { type: "Backdoor:Runtime/C&CActivity.B!DNS" })];
    await Promise.all(details.map((d) => lane.send(d)));
    const findingIds = details.map(findingIdOf);
    let jobIds: string[] = [];
    await waitUntil(
      async () => {
        jobIds = (await Promise.all(findingIds.map((id) => remediationsOf(world.db, { findingId: id })))).flat().map((r) => r.job_id);
        const postponed = workers.flatMap((w) => w.child.lines).filter((l) => l.text.includes('"why":"paused"')).map((l) => l.text);
        return jobIds.length === 2 && jobIds.every((id) => postponed.some((t) => t.includes(`"jobId":"${id}"`)));
      },
      { attempts: 150, what: "both jobs held back by the pause" },
    );
    await pause.resume("test");

    const rows = await waitForAll(findingIds, 300);
    expect(rows.map((r) => r.status)).toEqual(["succeeded", "succeeded"]);
    const locked = workers.flatMap((w) => w.child.lines).filter((l) => l.text.includes('"why":"resource_locked"'));
    expect(locked.length, "a job found the instance locked by the other").toBeGreaterThan(0);

    // No step of one remediation ran while a step of the other was running: the lock is held by
    // one job at a time. (Their spans may interleave: the job that contains hands the evidence
    // steps over to a job of its own, and the other remediation may take the lock in between.)
    const stepRows = await Promise.all(rows.map((r) => stepsOf(world.db, r.id)));
    const intervals = stepRows.map((steps) => {
      expect(steps.map((s) => s.name)).toEqual([...CONTAINMENT_STEPS]);
      return steps.map((s) => ({ name: s.name, start: s.started_at?.getTime() ?? Number.NaN, end: s.finished_at?.getTime() ?? Number.NaN }));
    });
    const [a, b] = intervals;
    if (!a || !b) throw new Error("unreachable");
    for (const x of a) {
      for (const y of b) {
        expect(Number.isFinite(x.start + x.end + y.start + y.end), `${x.name} and ${y.name} have start and end times`).toBe(true);
        expect(x.end <= y.start || y.end <= x.start, `${x.name} ${JSON.stringify(x)} overlaps ${y.name} ${JSON.stringify(y)}`).toBe(true);
      }
    }

    // The instance ends contained, marked by whichever tagged last, with one snapshot set per remediation.
    const taggedAt = (steps: readonly { name: string; end: number }[]): number => steps.find((s) => s.name === "tag")?.end ?? Number.NaN;
    const last = taggedAt(a) > taggedAt(b) ? rows[0] : rows[1];
    if (!last) throw new Error("unreachable");
    const view = await viewInstance(world.aws, seeded);
    expect(view.tags[RESPONDER_TAG.remediationId]).toBe(last.id);
    for (const r of rows) {
      expect(view.snapshots.filter((s) => s.tags[RESPONDER_TAG.remediationId] === r.id).map((s) => s.volumeId).sort()).toEqual([...seeded.volumeIds].sort());
    }
    const lastView = { ...view, snapshots: view.snapshots.filter((s) => s.tags[RESPONDER_TAG.remediationId] === last.id) };
    expect(containmentProblems(lastView, seeded, { findingId: last.finding_id, remediationId: last.id })).toEqual([]);
  });
});
