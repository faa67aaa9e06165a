// GuardDuty re-sends a finding id with a higher count and a later updatedAt, and SQS delivers in
// any order and more than once: the stored finding must only ever move forward, each delivery gets
// its own receipt saying what it was, and a finding+resource gets one remediation and one job.
// Order must not decide containment: a version that produced no remediation never blocks a later
// valid one, and two valid versions naming different resources go to a person, told, never dropped.
import { eventBridgeEvent, instanceFinding, newFindingId, s3Finding, type JsonObject } from "@gdr/samples/findings";
import { jobIdFor } from "@gdr/core/queues/catalog";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../support/index.js";
import {
  allJobs,
  auditActions,
  createWorld,
  findingRows,
  ingestEnv,
  queueDepth,
  receiptRows,
  recordingNotifier,
  remediationRows,
  sendBodies,
  sendBody,
  startIngest,
  stringAt,
  waitForEmptyQueue,
  type RunningIngest,
  type World,
} from "./harness.js";

let world: World;
let ingest: RunningIngest;
const notifier = recordingNotifier();

beforeAll(async () => {
  world = await createWorld();
  // One message per batch and four pollers: deliveries of one finding run in concurrent
  // transactions, which is what the row lock in the upsert is for.
  ingest = await startIngest(ingestEnv(world, { INGEST_BATCH_SIZE: "1", INGEST_POLLERS: "4" }), { notifier });
});

afterAll(async () => {
  await ingest.stop();
  await world.close();
});

const T0 = Date.parse("2025-03-01T10:00:00.000Z");
const minutes = (n: number): string => new Date(T0 + n * 60_000).toISOString();
const body = (detail: JsonObject): string => JSON.stringify(eventBridgeEvent(detail));

/** Version `count` of one finding on one instance, updated `count` × 5 minutes after creation. */
function version(id: string, count: number, instanceId: string): string {
  return body(instanceFinding({ id, seed: id, instanceId, count, createdAt: minutes(0), updatedAt: minutes(count * 5) }));
}

/** Sends one message and waits until ingest has recorded it, so that the next arrives after it. */
async function deliver(text: string): Promise<string> {
  const id = await sendBody(world, text);
  await waitUntil(async () => (await receiptRows(world.db)).some((r) => r.sqs_message_id === id), {
    attempts: 100,
    what: `message ${id} to be recorded`,
  });
  return id;
}

async function receiptOf(messageId: string) {
  const receipt = (await receiptRows(world.db)).find((r) => r.sqs_message_id === messageId);
  if (!receipt) throw new Error(`no receipt for ${messageId}`);
  return receipt;
}

async function findingRow(id: string) {
  return (await findingRows(world.db)).find((f) => f.id === id);
}

async function jobsFor(findingId: string) {
  return (await allJobs(world)).filter((j) => j.data.findingId === findingId);
}

describe("versions of one finding", () => {
  const id = newFindingId();
  const instanceId = "i-0a1b2c3d4e5f60718";

  it("moves forward only: v1, v3, late v2, v3 again", async () => {
    const v1 = await deliver(version(id, 1, instanceId));
    const v3 = await deliver(version(id, 3, instanceId));
    const v2 = await deliver(version(id, 2, instanceId));
    const v3again = await deliver(version(id, 3, instanceId));
    await waitForEmptyQueue(world, "the four versions deleted from SQS");

    const expected = [
      [v1, "accepted", "new_finding", 1],
      [v3, "accepted", "finding_updated", 3],
      [v2, "duplicate", "older_version", 2],
      [v3again, "duplicate", "same_version", 3],
    ] as const;
    for (const [messageId, outcome, reason, count] of expected) {
      expect(await receiptOf(messageId), `count ${count}`).toMatchObject({
        outcome,
        reason,
        finding_id: id,
        finding_count: count,
        finding_updated_at: new Date(minutes(count * 5)),
        deliveries: 1,
        rejected_body: null,
      });
    }

    const row = await findingRow(id);
    expect(row).toMatchObject({ count: 3, gd_updated_at: new Date(minutes(15)), resource_key: instanceId });
    expect(at(row?.raw, "service", "count")).toBe(3);

    // One remediation and one job for this finding and instance, however many versions came.
    const remediations = (await remediationRows(world.db)).filter((r) => r.finding_id === id);
    expect(remediations).toHaveLength(1);
    expect(remediations[0]).toMatchObject({ playbook: "instance", resource_key: instanceId, job_id: jobIdFor("instance", id, instanceId) });
    const jobs = await jobsFor(id);
    expect(jobs.map((j) => j.id)).toEqual([jobIdFor("instance", id, instanceId)]);
    expect(jobs[0]?.data.remediationId).toBe(remediations[0]?.id);
    expect((await auditActions(world.db)).filter((a) => a.finding_id === id && a.action === "remediation.queued")).toHaveLength(1);
  });

  it("escalates a valid newer version naming another instance to a person: recorded, notified, nothing runs, stored finding kept", async () => {
    const before = await findingRow(id);
    expect(before?.count).toBe(3);
    const other = "i-0fedcba9876543210";

    const conflicting = version(id, 4, other);
    const messageId = await deliver(conflicting);
    await waitForEmptyQueue(world, "the conflicting update deleted from SQS");

    const receipt = await receiptOf(messageId);
    expect(receipt).toMatchObject({ outcome: "accepted", reason: "conflict_escalated", finding_id: id, rejected_body: null });
    expect(receipt.detail).toContain(`resourceKey ${instanceId} -> ${other}`);

    // The stored finding and its remediation are untouched.
    expect(await findingRow(id)).toEqual(before);
    const remediations = (await remediationRows(world.db)).filter((r) => r.finding_id === id);
    expect(remediations.map((r) => [r.resource_key, r.status])).toEqual([
      [instanceId, "queued"],
      [other, "escalated"],
    ]);
    const escalated = remediations[1];
    const { rows } = await world.db.pool.query<{ error: string | null }>("SELECT error FROM remediations WHERE id = $1::uuid", [escalated?.id]);
    expect(rows[0]?.error).toMatch(/^version conflict: finding .* was acted on with another identity/);
    // No job for the escalated one: nothing runs until a person retries it.
    expect((await jobsFor(id)).map((j) => j.id)).toEqual([jobIdFor("instance", id, instanceId)]);
    const outbox = await world.db.pool.query("SELECT 1 FROM outbox WHERE remediation_id = $1::uuid", [escalated?.id]);
    expect(outbox.rowCount).toBe(0);
    expect((await auditActions(world.db)).filter((a) => a.remediation_id === escalated?.id).map((a) => [a.actor, a.action])).toEqual([
      ["ingest", "remediation.escalated"],
    ]);
    expect(notifier.events.filter((e) => e.findingId === id)).toEqual([
      expect.objectContaining({ kind: "escalated", remediationId: escalated?.id, resourceKey: other, detail: expect.stringContaining("version conflict") as unknown }),
    ]);

    // The same conflicting version again (a replay, new message id): recorded, not escalated twice.
    const again = await deliver(conflicting);
    await waitForEmptyQueue(world, "the replayed conflicting update deleted from SQS");
    expect(await receiptOf(again)).toMatchObject({ outcome: "accepted", reason: "conflict_escalated" });
    expect((await remediationRows(world.db)).filter((r) => r.finding_id === id)).toHaveLength(2);
    expect(notifier.events.filter((e) => e.findingId === id)).toHaveLength(1);
  });

  it("refuses a version naming another instance that would not act (archived) once the finding was acted on", async () => {
    const archived = body(instanceFinding({ id, seed: id, instanceId: "i-0bbbbbbbbbbbbbbbb", count: 9, archived: true, createdAt: minutes(0), updatedAt: minutes(45) }));
    const messageId = await deliver(archived);
    await waitForEmptyQueue(world, "the archived conflicting update deleted from SQS");
    expect(await receiptOf(messageId)).toMatchObject({ outcome: "rejected", reason: "conflicting_update" });
    expect((await remediationRows(world.db)).filter((r) => r.finding_id === id)).toHaveLength(2);
  });

  it("never regresses when all versions arrive at once, in any order, on concurrent pollers", async () => {
    const other = newFindingId();
    const otherInstance = "i-0123456789abcdef0";
    const order = [4, 2, 6, 1, 5, 3, 6, 2];
    const messageIds = await sendBodies(world, order.map((count) => version(other, count, otherInstance)));
    await waitForEmptyQueue(world, "all versions deleted from SQS");

    const receipts = (await receiptRows(world.db)).filter((r) => messageIds.includes(r.sqs_message_id));
    expect(receipts).toHaveLength(order.length);
    expect(receipts.filter((r) => r.reason === "new_finding")).toHaveLength(1);
    // The newest version is applied exactly once; of the two copies of v6, at least one is a duplicate.
    expect(receipts.filter((r) => r.outcome === "accepted" && r.finding_count === 6)).toHaveLength(1);
    expect(receipts.every((r) => ["new_finding", "finding_updated", "older_version", "same_version"].includes(r.reason))).toBe(true);
    expect(receipts.every((r) => r.deliveries === 1)).toBe(true);

    expect(await findingRow(other)).toMatchObject({ count: 6, gd_updated_at: new Date(minutes(30)) });
    expect((await remediationRows(world.db)).filter((r) => r.finding_id === other)).toHaveLength(1);
    expect((await jobsFor(other)).map((j) => j.id)).toEqual([jobIdFor("instance", other, otherInstance)]);
  });

  it("gives two different findings on the same instance a remediation each", async () => {
    const shared = "i-0aaaabbbbccccdddd";
    const first = instanceFinding({ instanceId: shared, type: "CryptoCurrency:Runtime/BitcoinTool.B!DNS" });
    const second = instanceFinding({ instanceId: shared, type: "Backdoor:Runtime/C&CActivity.B!DNS" });
    const ids = [stringAt(first, "id"), stringAt(second, "id")];
    const messageIds = await sendBodies(world, [body(first), body(second)]);
    await waitForEmptyQueue(world, "both findings deleted from SQS");

    const receipts = (await receiptRows(world.db)).filter((r) => messageIds.includes(r.sqs_message_id));
    expect(receipts.map((r) => [r.outcome, r.reason])).toEqual([
      ["accepted", "new_finding"],
      ["accepted", "new_finding"],
    ]);
    const remediations = (await remediationRows(world.db)).filter((r) => r.resource_key === shared);
    expect(remediations.map((r) => r.finding_id).sort()).toEqual([...ids].sort());
    const jobIds = (await allJobs(world)).filter((j) => j.data.resourceKey === shared).map((j) => j.id);
    expect(jobIds.sort()).toEqual(ids.map((f) => jobIdFor("instance", f, shared)).sort());
    expect(await queueDepth(world.sqs, world.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
  });
});

describe("versions that arrive before the real finding", () => {
  it("contains the instance although an unsupported-type version with its id came first (ignored), then the real high finding and its update", async () => {
    const id = newFindingId();
    const instanceId = "i-0c0c0c0c0c0c0c0c0";
    // Forged or misrouted: the real finding's id on an S3 bucket, and a later updatedAt.
    const unsupported = body(s3Finding({ id, seed: `${id}-s3`, count: 7, createdAt: minutes(0), updatedAt: minutes(60) }));
    const first = await deliver(unsupported);
    const real = await deliver(version(id, 1, instanceId));
    const update = await deliver(version(id, 2, instanceId));
    await waitForEmptyQueue(world, "the three versions deleted from SQS");

    expect([await receiptOf(first), await receiptOf(real), await receiptOf(update)].map((r) => [r.outcome, r.reason])).toEqual([
      ["ignored", "unsupported_resource_type"],
      ["accepted", "finding_replaced"],
      ["accepted", "finding_updated"],
    ]);
    expect(await findingRow(id)).toMatchObject({ resource_type: "Instance", resource_key: instanceId, count: 2, gd_updated_at: new Date(minutes(10)) });
    const remediations = (await remediationRows(world.db)).filter((r) => r.finding_id === id);
    expect(remediations.map((r) => [r.resource_key, r.mode, r.status])).toEqual([[instanceId, "auto", "queued"]]);
    expect((await jobsFor(id)).map((j) => j.id)).toEqual([jobIdFor("instance", id, instanceId)]);
  });

  it("contains the instance although a sample copy of the real finding with a later updatedAt came first", async () => {
    const id = newFindingId();
    const instanceId = "i-0d0d0d0d0d0d0d0d0";
    const sample = body(instanceFinding({ id, seed: id, instanceId, count: 5, sample: true, createdAt: minutes(0), updatedAt: minutes(90) }));
    const first = await deliver(sample);
    const real = await deliver(version(id, 1, instanceId));
    await waitForEmptyQueue(world, "both versions deleted from SQS");

    expect([await receiptOf(first), await receiptOf(real)].map((r) => [r.outcome, r.reason])).toEqual([
      ["ignored", "sample_finding"],
      ["accepted", "finding_replaced"],
    ]);
    expect(await findingRow(id)).toMatchObject({ sample: false, count: 1 });
    expect((await remediationRows(world.db)).filter((r) => r.finding_id === id).map((r) => r.status)).toEqual(["queued"]);
  });

  it("never drops a conflict in account alone (same instance id claimed for another account): recorded and notified once, though no remediation can hold it", async () => {
    const id = newFindingId();
    const instanceId = "i-0d0d0d0d0d0d0d0d0";
    // The first version, acted on, names account 111122223333; a later one names the same instance
    // in 123456789012. The unique key (finding, playbook, resource) cannot hold both remediations.
    const forged = body(instanceFinding({ id, seed: id, instanceId, accountId: "111122223333", count: 1, createdAt: minutes(0), updatedAt: minutes(5) }));
    const real = body(instanceFinding({ id, seed: id, instanceId, accountId: "123456789012", count: 2, createdAt: minutes(0), updatedAt: minutes(10) }));
    await deliver(forged);
    const second = await deliver(real);
    const again = await deliver(real);
    await waitForEmptyQueue(world, "all three versions deleted from SQS");

    const receipt = await receiptOf(second);
    expect(receipt).toMatchObject({ outcome: "accepted", reason: "conflict_escalated" });
    expect(receipt.detail).toMatch(/no remediation of its own: .*holds i-0d0d0d0d0d0d0d0d0 for account 111122223333 .* none could be recorded for this version \(123456789012\/us-east-1\//);
    expect((await remediationRows(world.db)).filter((r) => r.finding_id === id).map((r) => r.account_id)).toEqual(["111122223333"]);
    expect((await auditActions(world.db)).filter((a) => a.finding_id === id && a.action === "finding.conflict_escalated")).toHaveLength(1);
    expect(notifier.events.filter((e) => e.findingId === id).map((e) => [e.kind, e.accountId, e.remediationId])).toEqual([["escalated", "123456789012", null]]);
    expect(await receiptOf(again)).toMatchObject({ outcome: "accepted", reason: "conflict_escalated" });
  });

  it("never lets a newer archived version block an older valid one that arrives later: the valid one is queued, GuardDuty decides in the worker", async () => {
    const id = newFindingId();
    const instanceId = "i-0e0e0e0e0e0e0e0e0";
    const archived = body(instanceFinding({ id, seed: id, instanceId, count: 2, archived: true, createdAt: minutes(0), updatedAt: minutes(10) }));
    const first = await deliver(archived);
    const older = await deliver(version(id, 1, instanceId));
    await waitForEmptyQueue(world, "both versions deleted from SQS");

    expect([await receiptOf(first), await receiptOf(older)].map((r) => [r.outcome, r.reason])).toEqual([
      ["ignored", "archived"],
      ["accepted", "finding_replaced"],
    ]);
    expect(await findingRow(id)).toMatchObject({ archived: false, count: 1 });
    expect((await remediationRows(world.db)).filter((r) => r.finding_id === id).map((r) => r.status)).toEqual(["queued"]);
  });
});

describe("forged newer versions of an acted finding", () => {
  /** A finding acted on (v1 queued), its row as stored, and a helper to deliver its real v2 afterwards. */
  async function acted(instanceId: string) {
    const id = newFindingId();
    await deliver(version(id, 1, instanceId));
    await waitUntil(async () => (await remediationRows(world.db)).some((r) => r.finding_id === id), { attempts: 100, what: "the remediation" });
    const stored = await findingRow(id);
    const realUpdate = async () => {
      const messageId = await deliver(version(id, 2, instanceId));
      expect(await receiptOf(messageId)).toMatchObject({ outcome: "accepted", reason: "finding_updated" });
      expect(await findingRow(id)).toMatchObject({ count: 2, gd_updated_at: new Date(minutes(10)) });
    };
    return { id, stored, realUpdate };
  }

  it("refuses a version dated in the future (GuardDuty never sends one), so the real later update still applies", async () => {
    const { id, stored, realUpdate } = await acted("i-0f1f1f1f1f1f1f1f1");
    const future = body(instanceFinding({ id, seed: id, instanceId: "i-0f1f1f1f1f1f1f1f1", count: 50, createdAt: minutes(0), updatedAt: "2099-12-31T00:00:00.000Z" }));
    const messageId = await deliver(future);
    expect(await receiptOf(messageId)).toMatchObject({ outcome: "rejected", reason: "invalid_finding" });
    expect((await receiptOf(messageId)).detail).toContain("in the future");
    expect(await findingRow(id)).toEqual(stored);
    await realUpdate();
  });

  it("never rewrites an acted finding with a newer version naming another detector: conflict, stored detector kept, real updates still apply", async () => {
    const instanceId = "i-0f2f2f2f2f2f2f2f2";
    const { id, stored, realUpdate } = await acted(instanceId);
    const detector = String(at(stored?.raw, "service", "detectorId"));
    const forgedDetector = "f".repeat(32);
    const forged = version(id, 9, instanceId).replaceAll(detector, forgedDetector);
    const messageId = await deliver(forged);
    const receipt = await receiptOf(messageId);
    expect(receipt.reason).toBe("conflict_escalated");
    expect(receipt.detail).toContain(`detectorId ${detector} -> ${forgedDetector}`);
    // No remediation can hold it (same instance), but a person is told: never dropped silently.
    expect(notifier.events.filter((e) => e.findingId === id).map((e) => [e.kind, e.remediationId])).toEqual([["escalated", null]]);
    expect(await findingRow(id)).toEqual(stored);
    await realUpdate();
    expect(at((await findingRow(id))?.raw, "service", "detectorId")).toBe(detector);
  });

  it("never rewrites an acted finding with a newer version of another type: conflict, stored type kept, real updates still apply", async () => {
    const instanceId = "i-0f3f3f3f3f3f3f3f3";
    const { id, stored, realUpdate } = await acted(instanceId);
    const otherType = "Backdoor:EC2/C&CActivity.B!DNS";
    const forged = body(instanceFinding({ id, seed: id, instanceId, type: otherType, count: 9, createdAt: minutes(0), updatedAt: minutes(45) }));
    const messageId = await deliver(forged);
    const receipt = await receiptOf(messageId);
    expect(receipt.reason).toBe("conflict_escalated");
    expect(receipt.detail).toContain(`-> ${otherType}`);
    expect(await findingRow(id)).toEqual(stored);
    await realUpdate();
    expect((await findingRow(id))?.type).toBe(stored?.type);
  });

  it("never raises the stored severity of an acted finding (column and raw), while the newer version is otherwise applied", async () => {
    const instanceId = "i-0f4f4f4f4f4f4f4f4";
    const { id, stored } = await acted(instanceId);
    expect(stored?.severity).toBe("8.0");
    const higher = body(instanceFinding({ id, seed: id, instanceId, severity: 8.9, count: 3, createdAt: minutes(0), updatedAt: minutes(15) }));
    const messageId = await deliver(higher);
    expect(await receiptOf(messageId)).toMatchObject({ outcome: "accepted", reason: "finding_updated" });
    const row = await findingRow(id);
    expect(row).toMatchObject({ count: 3, severity: "8.0" });
    expect(at(row?.raw, "severity")).toBe(8);
    expect(at(row?.raw, "service", "count")).toBe(3);
  });
});

function at(value: unknown, ...path: string[]): unknown {
  let node = value;
  for (const key of path) node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}
