// A worker process killed (SIGKILL) mid-playbook, at every step boundary and inside the steps
// that create things: a second process picks the stalled job up and resumes at the cursor, and
// nothing is duplicated (snapshots, isolation groups, tags, standby, deregistrations, scans).
//
// How the kill lands exactly: the first worker talks to AWS through a proxy that holds one chosen
// request (the first mutating call of the next step, or the n-th call of an operation); once it
// is held, the process is killed, so the request never reaches moto. The second worker talks
// through a proxy that holds nothing and counts what it calls. Each kill point runs in a lane of
// its own (own queue prefix, own instance and VPC), several at once.
import { afterAll, beforeAll, describe, it, type ExpectStatic } from "vitest";
import {
  startAwsProxy,
  type AwsProxy,
  containmentProblems,
  viewInstance,
} from "../support/index.js";
import {
  CONTAINMENT_STEPS,
  auditOf,
  createEngineWorld,
  findingFor,
  findingIdOf,
  holdAfter,
  holdNth,
  remediationForFinding,
  seed,
  spawnWorker,
  startLane,
  stepsOf,
  waitForStatus,
  type EngineWorld,
  type Held,
  type StepRow,
  type WorkerProcess,
} from "./engine-harness.js";

/** A dead worker's job is found stalled within about this long, and its resource lock expires. */
const CRASH_ENV = { WORKER_JOB_LOCK_MS: "2000", WORKER_LOCK_TTL_MS: "1000" };

interface KillPoint {
  /** What had happened when the process died. */
  name: string;
  /** The step that was running (started, not recorded) at the kill, and is resumed. */
  resumed: (typeof CONTAINMENT_STEPS)[number];
  /** The request held at the kill (never reaches moto). */
  hold(proxy: AwsProxy): Promise<Held>;
  /** The resumed step finds its effect in place ("already done") rather than acting again. */
  alreadyDone?: boolean;
}

// GuardDuty speaks REST-JSON: the proxy cannot name its operations and calls them "unknown"; the
// only such call in this playbook is StartMalwareScan (checked on the held request's path).
const SCAN = "unknown";

const KILL_POINTS: KillPoint[] = [
  { name: "after identify", resumed: "leave-auto-scaling", hold: (p) => holdNth(p, "EnterStandby", 1) },
  { name: "after leave-auto-scaling", resumed: "isolate", hold: (p) => holdNth(p, "CreateSecurityGroup", 1) },
  // Two interfaces, each original → transit → containment: four swaps.
  { name: "mid-isolate, one interface on the transit group", resumed: "isolate", hold: (p) => holdNth(p, "ModifyNetworkInterfaceAttribute", 2) },
  { name: "mid-isolate, one interface contained, the other not moved", resumed: "isolate", hold: (p) => holdNth(p, "ModifyNetworkInterfaceAttribute", 3) },
  {
    name: "isolate done in AWS, its output not recorded",
    resumed: "isolate",
    alreadyDone: true,
    hold: (p) => holdAfter(p, { operation: "ModifyNetworkInterfaceAttribute", n: 4 }, "DescribeNetworkInterfaces"),
  },
  { name: "after isolate", resumed: "protect-evidence", hold: (p) => holdNth(p, "ModifyInstanceAttribute", 1) },
  { name: "after protect-evidence", resumed: "leave-target-groups", hold: (p) => holdNth(p, "DeregisterTargets", 1) },
  { name: "after leave-target-groups", resumed: "tag", hold: (p) => holdNth(p, "CreateTags", 1) },
  { name: "after tag", resumed: "snapshot-volumes", hold: (p) => holdNth(p, "CreateSnapshot", 1) },
  { name: "mid-snapshot, one snapshot taken", resumed: "snapshot-volumes", hold: (p) => holdNth(p, "CreateSnapshot", 2) },
  {
    name: "snapshots taken, the output not recorded",
    resumed: "snapshot-volumes",
    alreadyDone: true,
    hold: (p) => holdAfter(p, { operation: "CreateSnapshot", n: 2 }, "DescribeSnapshots"),
  },
  { name: "after snapshot-volumes", resumed: "malware-scan", hold: (p) => holdNth(p, SCAN, 1) },
  { name: "after malware-scan", resumed: "verify", alreadyDone: true, hold: (p) => holdAfter(p, { operation: SCAN, n: 1 }, "DescribeInstances") },
];

/**
 * How a step's run is recorded on moto: the malware scan cannot start (moto has no
 * StartMalwareScan) and says so, verify verifies; a step that finds its effect in place is
 * "already done", except verify, whose finding it in place is the verification.
 */
function finishedAs(step: string, alreadyDone: boolean): string {
  if (step === "verify") return "verified";
  if (step === "malware-scan") return alreadyDone ? "skipped" : "unavailable";
  return alreadyDone ? "skipped" : "succeeded";
}

const STEP_FINISHED = ["step.succeeded", "step.skipped", "step.unavailable", "step.verified"];

/** Calls that create or change something once: across both processes each reaches moto exactly this often. */
const ONCE = { EnterStandby: 1, CreateSecurityGroup: 2 /* transit and containment */, DeregisterTargets: 1, CreateTags: 1, CreateSnapshot: 2, [SCAN]: 1 };

let world: EngineWorld;

beforeAll(async () => {
  world = await createEngineWorld();
});

afterAll(async () => {
  await world.close();
});

function comparable(row: StepRow): Omit<StepRow, "started_at"> & { started_at: string | null } {
  return { ...row, started_at: row.started_at?.toISOString() ?? null };
}

async function crashAndResume(point: KillPoint, expect: ExpectStatic): Promise<void> {
  const lane = await startLane(world, { worker: false });
  const first = await startAwsProxy(world.moto.endpoint);
  const second = await startAwsProxy(world.moto.endpoint);
  const workers: WorkerProcess[] = [];
  try {
    const seeded = await seed(world);
    const holding = point.hold(first);
    const a = await spawnWorker(lane.workerEnv(first.endpoint, CRASH_ENV));
    workers.push(a);
    const detail = findingFor(seeded);
    const findingId = findingIdOf(detail);
    await lane.send(detail);
    const r = await remediationForFinding(world.db, findingId);
    const held = await holding;
    if (held.request.operation === SCAN) expect(held.request.path).toMatch(/malware-scan/);

    // The cursor as the dead process left it.
    const atKill = await stepsOf(world.db, r.id);
    await a.kill();
    const resumedIndex = CONTAINMENT_STEPS.indexOf(point.resumed);
    expect(atKill.map((s) => s.name)).toEqual(CONTAINMENT_STEPS.slice(0, resumedIndex + 1));
    expect(atKill.at(-1)).toMatchObject({ name: point.resumed, status: "running", attempts: 1 });

    const b = await spawnWorker(lane.workerEnv(second.endpoint, CRASH_ENV));
    workers.push(b);
    const done = await waitForStatus(world.db, r.id, ["succeeded", "failed", "skipped"], 400);
    expect(done.status).toBe("succeeded");
    await b.stop();
    // The containing job hands over to an evidence job once it has isolated: a kill past that
    // point lands in the evidence job, which the second process resumes.
    const contained = { resource: seeded.instanceId, outcome: "handed_over", jobId: r.job_id };
    const evidence = { resource: seeded.instanceId, outcome: "succeeded", jobId: `${r.job_id}-evidence` };
    const killedInEvidence = resumedIndex > CONTAINMENT_STEPS.indexOf("isolate");
    expect(a.finished()).toEqual(killedInEvidence ? [contained] : []);
    expect(b.finished()).toEqual(killedInEvidence ? [evidence] : [contained, evidence]);

    // AWS: contained once. One isolation group, one snapshot per volume, the tags, standby...
    const view = await viewInstance(world.aws, seeded);
    expect(containmentProblems(view, seeded, { findingId, remediationId: r.id })).toEqual([]);
    // ...and every create-once call reached moto once over both processes (the held one never did).
    const heldOp = held.request.operation;
    for (const [operation, times] of Object.entries(ONCE)) {
      const reached = first.count(operation) - (operation === heldOp ? 1 : 0) + second.count(operation);
      expect(reached, `${operation} calls that reached moto`).toBe(times);
    }

    // Postgres: the steps finished before the kill were not run again; the resumed one ran twice.
    const steps = await stepsOf(world.db, r.id);
    expect(steps.map((s) => s.name)).toEqual([...CONTAINMENT_STEPS]);
    for (const before of atKill.slice(0, -1)) {
      expect(comparable(steps[atKill.indexOf(before)] ?? before), `${before.name} untouched`).toEqual(comparable(before));
    }
    const resumed = steps[resumedIndex];
    expect(resumed).toMatchObject({ attempts: 2, status: finishedAs(point.resumed, point.alreadyDone === true) });
    for (const later of steps.slice(resumedIndex + 1)) expect(later.attempts, later.name).toBe(1);
    const events = (await auditOf(world.db, r.id)).filter((e) => STEP_FINISHED.includes(e.action));
    expect(events.map((e) => e.step)).toEqual([...CONTAINMENT_STEPS]);
    if (point.alreadyDone) expect(events[resumedIndex]?.note).toBe(point.resumed === "verify" ? "verified" : "already done");
  } finally {
    for (const w of workers) await w.kill();
    await Promise.allSettled([first.close(), second.close()]);
    await lane.stop();
  }
}

describe.concurrent("a worker killed mid-playbook, resumed by another process", () => {
  for (const point of KILL_POINTS) {
    it(`${point.name}: resumes at ${point.resumed}, nothing duplicated`, async ({ expect }) => {
      await crashAndResume(point, expect);
    }, 120_000);
  }
});
