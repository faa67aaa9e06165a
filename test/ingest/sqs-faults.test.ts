// SQS itself misbehaving or slow, through an AWS proxy in front of moto: a batch that takes longer
// than the visibility timeout keeps its messages hidden (heartbeat), a failed delete leaves the
// messages to come back and be recognised, and throttled receives back off and recover.
import { eventBridgeEvent, instanceFinding } from "@gdr/samples/findings";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsProxy, waitUntil, type AwsProxy } from "../support/index.js";
import {
  createWorld,
  ingestEnv,
  jobTotal,
  queueDepth,
  receiptRows,
  remediationRows,
  sendBodies,
  sendWhileReceivesHeld,
  startIngest,
  waitForEmptyQueue,
  type RunningIngest,
  type World,
} from "./harness.js";

let world: World;
let proxy: AwsProxy;
let ingest: RunningIngest;

beforeAll(async () => {
  world = await createWorld();
  proxy = await startAwsProxy(world.moto.endpoint);
  // Two pollers: if a batch's messages became visible again, the other poller would take them.
  ingest = await startIngest(ingestEnv(world, { INGEST_POLLERS: "2" }, proxy.endpoint));
});

afterAll(async () => {
  proxy.clear();
  await ingest.stop();
  await proxy.close();
  await world.close();
});

const findingBodies = (n: number): string[] =>
  Array.from({ length: n }, () => JSON.stringify(eventBridgeEvent(instanceFinding())));

async function receiptsOf(messageIds: readonly string[]) {
  return (await receiptRows(world.db)).filter((r) => messageIds.includes(r.sqs_message_id));
}

describe("SQS faults", () => {
  it("keeps the messages of a batch slower than the visibility timeout hidden", async () => {
    const hold = proxy.hold("DeleteMessageBatch");
    const extensionsBefore = proxy.count("ChangeMessageVisibilityBatch");
    // All in one go, so that no message is left unreceived while the pollers are stuck at the delete.
    const messageIds = await sendWhileReceivesHeld(world, proxy, 2, findingBodies(4));
    await hold.arrived;
    // Three extensions, half a timeout apart, take the batch well past its first timeout.
    await waitUntil(() => proxy.count("ChangeMessageVisibilityBatch") - extensionsBefore >= 3, {
      attempts: 80,
      intervalMs: 250,
      what: "the heartbeat to extend the batch's visibility three times",
    });
    const depth = await queueDepth(world.sqs, world.queueUrl);
    expect(depth).toEqual({ visible: 0, inFlight: messageIds.length });
    hold.release();
    await waitForEmptyQueue(world, "the slow batch deleted");

    // Nobody else got them meanwhile: one delivery each, received once.
    const receipts = await receiptsOf(messageIds);
    expect(receipts).toHaveLength(messageIds.length);
    expect(receipts.every((r) => r.deliveries === 1)).toBe(true);
    expect(await ingest.metric("gdr_ingest_messages_received_total")).toBe(messageIds.length);
  }, 60_000);

  it("leaves messages whose delete failed to come back, then recognises and deletes them", async () => {
    const jobsBefore = await jobTotal(world);
    // Every attempt of the SDK (3) gets a 500: the delete stage of one batch fails.
    proxy.fail("DeleteMessageBatch", { status: 500, code: "InternalError", times: 3 });
    const messageIds = await sendBodies(world, findingBodies(3));
    await waitUntil(async () => (await ingest.metric("gdr_ingest_batch_failures_total", { kind: "sqs" })) >= 1, {
      attempts: 100,
      what: "a batch to fail on the SQS delete",
    });
    await waitForEmptyQueue(world, "the messages deleted on redelivery", 150);

    const receipts = await receiptsOf(messageIds);
    expect(receipts).toHaveLength(messageIds.length);
    expect(receipts.some((r) => r.deliveries === 2)).toBe(true);
    expect(receipts.every((r) => r.outcome === "accepted" && r.reason === "new_finding" && r.deliveries <= 2)).toBe(true);
    const remediations = (await remediationRows(world.db)).filter((r) => receipts.some((x) => x.finding_id === r.finding_id));
    expect(remediations).toHaveLength(messageIds.length);
    expect(await jobTotal(world)).toBe(jobsBefore + messageIds.length);
    expect(await queueDepth(world.sqs, world.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
  }, 60_000);

  it("backs off from throttled receives and recovers", async () => {
    const failuresBefore = await ingest.metric("gdr_ingest_batch_failures_total", { kind: "sqs" });
    const jobsBefore = await jobTotal(world);
    proxy.fail("ReceiveMessage", { status: 400, code: "ThrottlingException", times: 6 });
    await waitUntil(async () => (await ingest.metric("gdr_ingest_batch_failures_total", { kind: "sqs" })) > failuresBefore, {
      attempts: 100,
      what: "a receive to fail",
    });
    const messageIds = await sendBodies(world, findingBodies(3));
    await waitForEmptyQueue(world, "the messages processed after the throttling", 150);

    const receipts = await receiptsOf(messageIds);
    expect(receipts).toHaveLength(messageIds.length);
    expect(receipts.every((r) => r.outcome === "accepted" && r.deliveries === 1)).toBe(true);
    expect(await jobTotal(world)).toBe(jobsBefore + messageIds.length);
  }, 60_000);
});
