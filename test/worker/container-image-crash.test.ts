// A worker process killed (SIGKILL) in the middle of the compromised image's removal, after the
// approval: a second process picks the stalled job up, runs remove-image again from its start,
// and everything ends removed, with the image deleted once. The kill lands where chosen: the first
// worker talks to moto through a proxy that holds one request (it never reaches moto) and the
// process is killed while it waits; the second talks through a proxy that holds nothing.
//   - BatchDeleteImage held: the definitions are INACTIVE already, the image and the tasks not;
//   - the second StopTask held: the definitions INACTIVE, the image deleted, one task stopped.
// A resent DeregisterTaskDefinition of an INACTIVE definition and StopTask of a stopping task are
// answered as done by moto (and taken as done by the step when ECS refuses them); a resent
// BatchDeleteImage answers failures[] ImageNotFound, recorded as `gone`.
import { approveRemediation } from "@gdr/core/approvals/decide";
import { afterAll, beforeAll, describe, it, type ExpectStatic } from "vitest";
import { startAwsProxy, waitUntil, type AwsProxy } from "../support/index.js";
import { ecrClient, imageFinding, seedImageWorld, taskDefinitionStatus, viewImage } from "../support/seed/ecr.js";
import { ecsClient, pinTaskLifecycle, viewTask } from "../support/seed/ecs.js";
import { createEngineWorld, findingIdOf, holdNth, remediationsOf, spawnWorker, startLane, stepMap, stepsOf, waitForStatus, type EngineWorld, type Held, type RemediationRow, type WorkerProcess } from "./engine-harness.js";

/** A dead worker's job is found stalled within about this long, and its resource lock expires. */
const CRASH_ENV = { WORKER_JOB_LOCK_MS: "2000", WORKER_LOCK_TTL_MS: "1000" };
const POLICY = [
  "version: 1",
  'accounts: { allow: ["*"] }',
  "rules:",
  "  - { name: ecs, match: { resourceTypes: [ECSCluster] }, mode: notify }",
  "additional:",
  "  - { name: image, match: { resourceTypes: [ECSCluster], modifyingProcess: absent }, playbook: container-image, mode: auto }",
  "",
].join("\n");

interface KillPoint {
  name: string;
  hold(proxy: AwsProxy): Promise<Held>;
  /** Whether the held request (which never reached moto) is the BatchDeleteImage. */
  holdsDelete: boolean;
  /** BatchDeleteImage calls that reached moto over both processes, and what the record says. */
  deletes: number;
  image: "deleted" | "gone";
}

const KILL_POINTS: KillPoint[] = [
  { name: "BatchDeleteImage held", hold: (p) => holdNth(p, "BatchDeleteImage", 1), holdsDelete: true, deletes: 1, image: "deleted" },
  { name: "the second StopTask held", hold: (p) => holdNth(p, "StopTask", 2), holdsDelete: false, deletes: 2, image: "gone" },
];

let world: EngineWorld;
let ecs: ReturnType<typeof ecsClient>;
let ecr: ReturnType<typeof ecrClient>;

beforeAll(async () => {
  world = await createEngineWorld();
  ecs = ecsClient(world.moto.endpoint);
  ecr = ecrClient(world.moto.endpoint);
  await pinTaskLifecycle(world.moto.endpoint);
});

afterAll(async () => {
  ecs.destroy();
  ecr.destroy();
  await world.close();
});

async function imageRemediation(findingId: string): Promise<RemediationRow> {
  let found: RemediationRow | undefined;
  await waitUntil(
    async () => {
      found = (await remediationsOf(world.db, { findingId })).find((r) => r.playbook === "container-image");
      return found !== undefined;
    },
    { attempts: 300, what: "the container-image remediation" },
  );
  if (!found) throw new Error("no container-image remediation");
  return found;
}

async function crashAndResume(point: KillPoint, expect: ExpectStatic): Promise<void> {
  const lane = await startLane(world, { worker: false, policy: POLICY });
  const first = await startAwsProxy(world.moto.endpoint);
  const second = await startAwsProxy(world.moto.endpoint);
  const workers: WorkerProcess[] = [];
  try {
    const seeded = await seedImageWorld({ ...world.aws, ecs, ecr });
    const a = await spawnWorker(lane.workerEnv(first.endpoint, CRASH_ENV));
    workers.push(a);
    const detail = imageFinding(seeded.task);
    await lane.send(detail);
    const r = await imageRemediation(findingIdOf(detail));
    const waiting = await waitForStatus(world.db, r.id, ["awaiting_approval", "failed", "escalated", "skipped"]);
    expect(waiting.status, waiting.error ?? "").toBe("awaiting_approval");

    const holding = point.hold(first);
    const decision = await approveRemediation(world.db.prisma, lane.queues, { remediationId: r.id, actor: "alice", reason: "remove it", planHash: waiting.plan_hash ?? "" });
    expect(decision.ok).toBe(true);
    await holding;
    const atKill = stepMap(await stepsOf(world.db, r.id));
    await a.kill();
    expect(atKill.get("remove-image")).toMatchObject({ status: "running", attempts: 1 });

    const b = await spawnWorker(lane.workerEnv(second.endpoint, CRASH_ENV));
    workers.push(b);
    const done = await waitForStatus(world.db, r.id, ["succeeded", "failed", "escalated"], 400);
    expect(done.status, done.error ?? "").toBe("succeeded");
    await b.stop();

    // The held request never reached moto.
    const deletes = first.count("BatchDeleteImage") - (point.holdsDelete ? 1 : 0) + second.count("BatchDeleteImage");
    expect(deletes, "BatchDeleteImage calls that reached moto").toBe(point.deletes);
    const steps = stepMap(await stepsOf(world.db, r.id));
    expect(steps.get("remove-image")).toMatchObject({ attempts: 2, status: "succeeded" });
    expect(steps.get("remove-image")?.output).toMatchObject({ image: point.image });
    for (const name of ["resolve-image", "find-users", "scan-image"]) expect(steps.get(name), name).toMatchObject({ attempts: 1, status: "succeeded" });

    for (const task of [seeded.task, seeded.service.task, seeded.sidecarTask]) expect((await viewTask({ ...world.aws, ecs }, task)).desiredStatus, task.taskArn).toBe("STOPPED");
    for (const arn of [seeded.task.taskDefinitionArn, seeded.service.task.taskDefinitionArn, seeded.sidecarTask.taskDefinitionArn, seeded.idleDefinition.taskDefinitionArn]) {
      expect(await taskDefinitionStatus(ecs, arn), arn).toBe("INACTIVE");
    }
    expect((await viewImage(ecr, seeded.image)).present).toBe(false);
    expect((await viewTask({ ...world.aws, ecs }, seeded.otherTask)).desiredStatus).toBe("RUNNING");
    expect((await viewImage(ecr, seeded.other)).present).toBe(true);
  } finally {
    for (const w of workers) await w.kill();
    await Promise.allSettled([first.close(), second.close()]);
    await lane.stop();
  }
}

describe("a worker killed while removing a compromised image, resumed by another process", () => {
  for (const point of KILL_POINTS) {
    it(`${point.name}: remove-image runs again and everything ends removed`, async ({ expect }) => {
      await crashAndResume(point, expect);
    }, 120_000);
  }
});
