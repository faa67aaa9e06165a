// One finding, several remediations: the shipped policy's `additional` entry adds an image
// remediation beside the task's when Runtime Monitoring saw a malicious file that came with the
// image (no modifying process). Each is its own row, outbox row and job, in its own queue, and a
// GuardDuty update of the finding starts neither again. An image that cannot be singled out (the
// task runs several) is recorded and told, never guessed.
import { ecsFinding, setIn, type JsonObject } from "@gdr/samples/findings";
import { jobIdFor } from "@gdr/core/queues/catalog";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allJobs,
  createWorld,
  deliver as deliverTo,
  expectedPayload,
  ingestEnv,
  outboxRows,
  recordingNotifier,
  remediationRows,
  startIngest,
  stringAt,
  type RunningIngest,
  type World,
} from "./harness.js";

const ACCOUNT = "111122223333";
const MALICIOUS_FILE = "Execution:Runtime/MaliciousFileExecuted";

let world: World;
let ingest: RunningIngest;
const notifier = recordingNotifier();

beforeAll(async () => {
  world = await createWorld();
  ingest = await startIngest(ingestEnv(world), { notifier });
});

afterAll(async () => {
  await ingest.stop();
  await world.close();
});

/** A task finding of the malicious-file type; the sample's runtime context names no modifying process. */
function fromImage(seed: string, severity = 8): JsonObject {
  const detail = ecsFinding({ accountId: ACCOUNT, seed });
  setIn(detail, ["type"], MALICIOUS_FILE);
  setIn(detail, ["severity"], severity);
  return detail;
}

/** Sends one finding and waits until ingest has recorded it; answers its receipt. */
function deliver(detail: JsonObject) {
  return deliverTo(world, detail);
}

const remediationsFor = async (findingId: string) => (await remediationRows(world.db)).filter((r) => r.finding_id === findingId);

describe("a malicious file that came with the image", () => {
  it("starts the task's remediation and the image's, each with its own outbox row and job, in the task's mode", async () => {
    const detail = fromImage("fan-out-1");
    const id = stringAt(detail, "id");
    const taskArn = stringAt(detail, "resource", "ecsClusterDetails", "taskDetails", "arn");
    const image = stringAt(detail, "resource", "ecsClusterDetails", "taskDetails", "containers", 0, "image");
    const receipt = await deliver(detail);
    expect(receipt).toMatchObject({ outcome: "accepted", reason: "new_finding" });
    expect(receipt.detail).toMatch(/playbook ecs-task, mode auto, rule workload-high-critical; remediation \S+ queued: playbook container-image, mode auto, rule image-from-registry$/);

    const rows = await remediationsFor(id);
    expect(rows.map((r) => [r.playbook, r.resource_key, r.mode, r.status]).sort()).toEqual([
      ["container-image", image, "auto", "queued"],
      ["ecs-task", taskArn, "auto", "queued"],
    ]);
    const outbox = (await outboxRows(world.db)).filter((o) => rows.some((r) => r.id === o.remediation_id));
    expect(outbox.map((o) => o.queue).sort()).toEqual(["container-image", "ecs-task"]);
    const jobs = (await allJobs(world)).filter((j) => j.data.findingId === id);
    expect(jobs.map((j) => j.id).sort()).toEqual([jobIdFor("container-image", id, image), jobIdFor("ecs-task", id, taskArn)].sort());
    for (const row of rows) expect(jobs.find((j) => j.data.remediationId === row.id)?.data).toEqual(expectedPayload(row));
  });

  it("asks for approval of both on a medium finding, and a GuardDuty update starts neither again", async () => {
    const detail = fromImage("fan-out-2", 5);
    const id = stringAt(detail, "id");
    await deliver(detail);
    const update = structuredClone(detail);
    setIn(update, ["service", "count"], 2);
    setIn(update, ["updatedAt"], new Date(Date.parse(stringAt(detail, "updatedAt")) + 60_000).toISOString());
    expect(await deliver(update)).toMatchObject({ outcome: "accepted", reason: "finding_updated" });
    expect((await remediationsFor(id)).map((r) => [r.playbook, r.mode]).sort()).toEqual([
      ["container-image", "approval"],
      ["ecs-task", "approval"],
    ]);
    expect((await allJobs(world)).filter((j) => j.data.findingId === id)).toHaveLength(2);
  });

  it("starts only the task's remediation when GuardDuty names the process that wrote the file", async () => {
    const detail = fromImage("fan-out-3");
    setIn(detail, ["service", "runtimeDetails", "context", "modifyingProcess"], { name: "curl", executablePath: "/usr/bin/curl", pid: 77 });
    const id = stringAt(detail, "id");
    await deliver(detail);
    expect((await remediationsFor(id)).map((r) => r.playbook)).toEqual(["ecs-task"]);
  });

  it("records and tells people, once, when the task runs several images and the finding cannot say which", async () => {
    const detail = fromImage("fan-out-4");
    const containers = ["taskDetails", "containers"] as const;
    setIn(detail, ["resource", "ecsClusterDetails", ...containers, 1], { name: "sidecar", image: "public.ecr.aws/nginx/nginx:1.27", containerRuntime: "containerd" });
    const id = stringAt(detail, "id");
    const receipt = await deliver(detail);
    expect(receipt.detail).toMatch(/no container-image remediation \(rule image-from-registry\): the workload runs 2 images/);
    expect((await remediationsFor(id)).map((r) => r.playbook)).toEqual(["ecs-task"]);
    const { rows } = await world.db.pool.query<{ detail: { playbook: string; rule: string; reason: string } }>(
      "SELECT detail FROM audit_events WHERE finding_id = $1 AND action = 'finding.additional_unresolved'",
      [id],
    );
    expect(rows.map((r) => [r.detail.playbook, r.detail.rule])).toEqual([["container-image", "image-from-registry"]]);
    expect(notifier.events.filter((e) => e.findingId === id).map((e) => [e.kind, e.remediationId ?? null])).toEqual([["escalated", null]]);

    const update = structuredClone(detail);
    setIn(update, ["service", "count"], 2);
    setIn(update, ["updatedAt"], new Date(Date.parse(stringAt(detail, "updatedAt")) + 60_000).toISOString());
    await deliver(update);
    const again = await world.db.pool.query("SELECT 1 FROM audit_events WHERE finding_id = $1 AND action = 'finding.additional_unresolved'", [id]);
    expect(again.rowCount).toBe(1);
  });
});
