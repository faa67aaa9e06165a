// The compromised-image playbook end to end through the real services: a Runtime Monitoring
// finding whose malicious file came with the image (no modifying process) goes through SQS and
// ingest; the policy's `additional` entry adds the image remediation beside the task's (notified
// only here, so that nothing else acts on the tasks). The worker resolves the image in moto's
// ECR, finds its users in every cluster, starts a scan, and freezes one destructive plan; nothing
// is stopped, deregistered or deleted until a person approves it. Assertions are on what moto
// holds (tasks, task definitions, the image, the scan) and on the plan as stored.
//
// moto notes (../shared/MOTO.md): DescribeTasks returns only a task's first container (the sidecar
// task below is found through its task definition); task lifecycles are pinned so that only
// StopTask stops a task; StopTask sets the desired status and moto leaves the task's ENI, which
// AWS deletes (not asserted on); moto's scan returns a canned finding.
import { approveRemediation } from "@gdr/core/approvals/decide";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../support/index.js";
import { ecrClient, imageFinding, pushImage, seedImageWorld, seedRepository, taskDefinitionStatus, viewImage, type ImageWorld } from "../support/seed/ecr.js";
import { ecsClient, pinTaskLifecycle, runTask, seedCluster, seedTaskNetwork, viewTask, type SeededTask } from "../support/seed/ecs.js";
import { createEngineWorld, findingIdOf, remediation, remediationsOf, startLane, stepMap, stepsOf, waitForStatus, type EngineWorld, type Lane, type RemediationRow } from "./engine-harness.js";

const POLICY = [
  "version: 1",
  'accounts: { allow: ["*"] }',
  "rules:",
  "  - { name: ecs, match: { resourceTypes: [ECSCluster] }, mode: notify }",
  "additional:",
  "  - name: image",
  "    match: { types: [\"Execution:Runtime/MaliciousFileExecuted\"], resourceTypes: [ECSCluster], modifyingProcess: absent }",
  "    playbook: container-image",
  "    mode: auto",
  "",
].join("\n");
const SETTLED = ["awaiting_approval", "succeeded", "failed", "skipped", "escalated", "rejected"];

interface PlannedCall {
  service: string;
  operation: string;
  params: Record<string, unknown>;
}
interface PlanStep {
  name: string;
  destructive: boolean;
  calls: PlannedCall[];
  note?: string;
}

let world: EngineWorld;
let ecs: ReturnType<typeof ecsClient>;
let ecr: ReturnType<typeof ecrClient>;
let lane: Lane;

beforeAll(async () => {
  world = await createEngineWorld();
  ecs = ecsClient(world.moto.endpoint);
  ecr = ecrClient(world.moto.endpoint);
  await pinTaskLifecycle(world.moto.endpoint);
  lane = await startLane(world, { policy: POLICY });
});

afterAll(async () => {
  await lane.stop();
  ecs.destroy();
  ecr.destroy();
  await world.close();
});

const clients = (): Parameters<typeof seedImageWorld>[0] => ({ ...world.aws, ecs, ecr });

/** The image remediation ingest added for the finding. */
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

function planSteps(row: RemediationRow): PlanStep[] {
  return (row.plan as { steps: PlanStep[] }).steps;
}

async function statusesOf(id: string): Promise<Record<string, string>> {
  return Object.fromEntries((await stepsOf(world.db, id)).map((s) => [s.name, s.status]));
}

async function outputOf(id: string, step: string): Promise<unknown> {
  return stepMap(await stepsOf(world.db, id)).get(step)?.output;
}

async function approve(row: RemediationRow): Promise<void> {
  const decision = await approveRemediation(world.db.prisma, lane.queues, { remediationId: row.id, actor: "alice", reason: "remove it", planHash: row.plan_hash ?? "" });
  expect(decision.ok, JSON.stringify(decision)).toBe(true);
}

async function running(task: SeededTask): Promise<boolean> {
  const view = await viewTask({ ...world.aws, ecs }, task);
  return view.lastStatus === "RUNNING" && view.desiredStatus === "RUNNING";
}

const definitionsOf = (w: ImageWorld): string[] => [w.task.taskDefinitionArn, w.service.task.taskDefinitionArn, w.sidecarTask.taskDefinitionArn, w.idleDefinition.taskDefinitionArn];
const tasksOf = (w: ImageWorld): SeededTask[] => [w.task, w.service.task, w.sidecarTask];

describe("an image in this account's ECR", () => {
  let seeded: ImageWorld;
  let findingId: string;

  it("is resolved, hunted across clusters and scanned, and nothing is removed before a person approves", async () => {
    seeded = await seedImageWorld(clients());
    const detail = imageFinding(seeded.task);
    findingId = findingIdOf(detail);
    await lane.send(detail);
    const queued = await imageRemediation(findingId);
    expect(queued).toMatchObject({ mode: "auto", resource_key: seeded.image.reference });

    const waiting = await waitForStatus(world.db, queued.id, SETTLED);
    expect(waiting.status, waiting.error ?? "").toBe("awaiting_approval");
    expect(await statusesOf(queued.id)).toEqual({ "resolve-image": "succeeded", "find-users": "succeeded", "scan-image": "succeeded", "remove-image": "awaiting_approval" });
    expect(await outputOf(queued.id, "resolve-image")).toMatchObject({
      status: "found",
      ecr: { registryId: seeded.image.repository.registryId, repositoryName: seeded.image.repository.repositoryName },
      image: { digest: seeded.image.digest, tags: ["1.8.2"] },
    });

    // Every user, in both clusters; the sidecar task through its definition (moto describes only
    // its first container); the unrelated image's task and definition are not among them.
    const users = (await outputOf(queued.id, "find-users")) as {
      tasks: { taskArn: string; clusterArn: string; via: string }[];
      taskDefinitions: { taskDefinitionArn: string }[];
      services: { serviceArn: string; serviceName: string }[];
    };
    expect(new Map(users.tasks.map((t) => [t.taskArn, [t.clusterArn, t.via]]))).toEqual(
      new Map([
        [seeded.task.taskArn, [seeded.clusters[0].clusterArn, "task"]],
        [seeded.service.task.taskArn, [seeded.clusters[1].clusterArn, "task"]],
        [seeded.sidecarTask.taskArn, [seeded.clusters[0].clusterArn, "task-definition"]],
      ]),
    );
    expect(users.taskDefinitions.map((d) => d.taskDefinitionArn).sort()).toEqual(definitionsOf(seeded).sort());
    expect(users.services.map((s) => s.serviceArn)).toEqual([seeded.service.serviceArn]);

    // The scan was started and its result recorded (moto's canned finding).
    expect((await viewImage(ecr, seeded.image)).scanStatus).not.toBeNull();
    expect(await outputOf(queued.id, "scan-image")).toMatchObject({ applies: true, started: true, result: { severityCounts: { HIGH: 1 } } });

    // Nothing removed yet.
    for (const task of [...tasksOf(seeded), seeded.otherTask, seeded.siblingTask]) expect(await running(task), task.taskArn).toBe(true);
    for (const arn of definitionsOf(seeded)) expect(await taskDefinitionStatus(ecs, arn), arn).toBe("ACTIVE");
    expect((await viewImage(ecr, seeded.image)).present).toBe(true);

    // One plan: deregister, delete by digest, stop, with the services named in its note.
    const [remove, ...more] = planSteps(waiting);
    expect(more).toEqual([]);
    expect(remove).toMatchObject({ name: "remove-image", destructive: true });
    const calls = remove?.calls ?? [];
    expect(calls.filter((c) => c.operation === "DeregisterTaskDefinition").map((c) => c.params["taskDefinition"]).sort()).toEqual(definitionsOf(seeded).sort());
    expect(calls.filter((c) => c.operation === "BatchDeleteImage")).toEqual([
      {
        service: "ecr",
        operation: "BatchDeleteImage",
        params: { registryId: seeded.image.repository.registryId, repositoryName: seeded.image.repository.repositoryName, imageIds: [{ imageDigest: seeded.image.digest }] },
      },
    ]);
    const stops = calls.filter((c) => c.operation === "StopTask");
    expect(new Map(stops.map((c) => [c.params["task"], c.params["cluster"]]))).toEqual(new Map(tasksOf(seeded).map((t) => [t.taskArn, t.cluster.clusterArn])));
    for (const stop of stops) expect(String(stop.params["reason"])).toContain(`GuardDuty finding ${findingId}`);
    // Definitions first, then the image, then the tasks: nothing can start the image again.
    expect(calls.map((c) => c.operation)).toEqual([...Array<string>(4).fill("DeregisterTaskDefinition"), "BatchDeleteImage", ...Array<string>(3).fill("StopTask")]);
    expect(remove?.note).toContain(`${seeded.service.serviceName} in cluster ${seeded.clusters[1].clusterName}`);
    expect(remove?.note).toMatch(/INACTIVE.*keep running.*scale up or down.*no new task can be run/);
    // What the approver must know beyond the calls: the EC2 agent's cached-image fallback, and the tags the digest takes with it.
    expect(remove?.note).toMatch(/EC2 launch type .* may start the replacement from its cache/);
    expect(remove?.note).toContain("Deleting the image by its digest removes every tag it carries: 1.8.2.");
  });

  it("once approved: the tasks stopped, the definitions INACTIVE, the image gone, the other image and its task untouched", async () => {
    const queued = await imageRemediation(findingId);
    await approve(await waitForStatus(world.db, queued.id, SETTLED));
    const done = await waitForStatus(world.db, queued.id, ["succeeded", "failed", "escalated"]);
    expect(done.status, done.error ?? "").toBe("succeeded");
    expect((await statusesOf(queued.id))["remove-image"]).toBe("succeeded");

    for (const task of tasksOf(seeded)) {
      const view = await viewTask({ ...world.aws, ecs }, task);
      expect(view.desiredStatus, task.taskArn).toBe("STOPPED");
      expect(view.stoppedReason, task.taskArn).toContain(`GuardDuty finding ${findingId}`);
    }
    for (const arn of definitionsOf(seeded)) expect(await taskDefinitionStatus(ecs, arn), arn).toBe("INACTIVE");
    expect((await viewImage(ecr, seeded.image)).present).toBe(false);
    expect(await running(seeded.otherTask)).toBe(true);
    expect(await taskDefinitionStatus(ecs, seeded.otherTask.taskDefinitionArn)).toBe("ACTIVE");
    expect((await viewImage(ecr, seeded.other)).present).toBe(true);
    // The same repository's other image (another tag, other bytes) and its task: untouched.
    expect(await running(seeded.siblingTask)).toBe(true);
    expect(await taskDefinitionStatus(ecs, seeded.siblingTask.taskDefinitionArn)).toBe("ACTIVE");
    expect(await viewImage(ecr, seeded.sibling)).toMatchObject({ present: true, tags: ["1.9.0"] });
  });

  it("a second finding for the removed image finds nothing left, ends skipped without asking anyone, and changes nothing", async () => {
    // The same finding again is deduplicated: still one image remediation.
    await lane.send(imageFinding(seeded.task, { id: findingId }));
    const again = imageFinding(seeded.task);
    await lane.send(again);
    const queued = await imageRemediation(findingIdOf(again));
    const ended = await waitForStatus(world.db, queued.id, SETTLED);
    expect(ended.status, ended.error ?? "").toBe("skipped");
    expect(ended.error).toMatch(new RegExp(`^resource_gone: nothing left to remove: the image is no longer in repository ${seeded.image.repository.repositoryName}, and no running task or ACTIVE task definition uses it`));
    expect(ended.plan).toBeNull();
    expect(await outputOf(queued.id, "resolve-image")).toMatchObject({ status: "gone" });
    const statuses = await statusesOf(queued.id);
    expect(statuses["find-users"]).toBe("skipped");
    expect(statuses["scan-image"]).toBeUndefined();
    expect(statuses["remove-image"]).toBeUndefined();
    expect((await remediationsOf(world.db, { findingId })).filter((r) => r.playbook === "container-image")).toHaveLength(1);
    expect(await running(seeded.otherTask)).toBe(true);
    expect((await viewImage(ecr, seeded.other)).present).toBe(true);
  });
});

describe("an image in a registry the service cannot write to", () => {
  it("is hunted by reference; the plan stops and deregisters, deletes nothing, and says why", async () => {
    const reference = "public.ecr.aws/acme/payments-api:1.8.2";
    const network = await seedTaskNetwork(world.aws);
    const cluster = await seedCluster({ ecs });
    const task = await runTask({ ...world.aws, ecs }, { cluster, image: reference, network });
    // The same repository's image in this account's ECR is another image: left alone.
    const own = await pushImage(ecr, await seedRepository(ecr, `acme/payments-api-${Date.now().toString(36)}`), "1.8.2");
    const ownTask = await runTask({ ...world.aws, ecs }, { cluster, image: own.reference, network });

    const detail = imageFinding(task);
    await lane.send(detail);
    const queued = await imageRemediation(findingIdOf(detail));
    expect(queued.resource_key).toBe(reference);
    const waiting = await waitForStatus(world.db, queued.id, SETTLED);
    expect(waiting.status, waiting.error ?? "").toBe("awaiting_approval");
    expect(await outputOf(queued.id, "resolve-image")).toMatchObject({
      status: "not_writable",
      reason: "public.ecr.aws is not an Amazon ECR private registry (a public or third-party registry): a registry the service cannot write to",
    });
    expect(stepMap(await stepsOf(world.db, queued.id)).get("scan-image")).toMatchObject({ status: "skipped" });
    const [remove] = planSteps(waiting);
    expect(remove?.calls).toEqual([
      { service: "ecs", operation: "DeregisterTaskDefinition", params: { taskDefinition: task.taskDefinitionArn } },
      { service: "ecs", operation: "StopTask", params: { cluster: cluster.clusterArn, task: task.taskArn, reason: expect.stringContaining(findingIdOf(detail)) as unknown } },
    ]);
    expect(remove?.note).toMatch(/^No service uses these task definitions\./);

    await approve(waiting);
    expect((await waitForStatus(world.db, queued.id, ["succeeded", "failed", "escalated"])).status).toBe("succeeded");
    expect(await outputOf(queued.id, "remove-image")).toMatchObject({ image: "not_applicable", stoppedTasks: [task.taskArn] });
    expect((await viewTask({ ...world.aws, ecs }, task)).desiredStatus).toBe("STOPPED");
    expect(await taskDefinitionStatus(ecs, task.taskDefinitionArn)).toBe("INACTIVE");
    expect(await running(ownTask)).toBe(true);
    expect((await viewImage(ecr, own)).present).toBe(true);
    expect((await remediation(world.db, queued.id)).status).toBe("succeeded");
  });
});
