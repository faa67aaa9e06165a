// SIGTERM on the real ingest process: a batch in flight is finished (recorded and deleted), no
// message is received after the signal, and the process exits 0 before its shutdown deadline
// (the shutdown registry exits 1 when the deadline passes). Idle, it exits 0 too.
import { DeleteMessageCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { eventBridgeEvent, instanceFinding } from "@gdr/samples/findings";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnTs, startAwsProxy, waitUntil, type AwsProxy, type TsChild } from "../support/index.js";
import {
  createWorld,
  ingestEnv,
  jobTotal,
  queueDepth,
  receiptRows,
  remediationRows,
  sendBodies,
  sendWhileReceivesHeld,
  type World,
} from "./harness.js";

const ENTRY = "services/ingest/src/main.ts";
const STARTED = /"msg":"ingest started"/;

let world: World;
let proxy: AwsProxy;
const children: TsChild[] = [];

function spawnIngest(overrides: Record<string, string>, endpoint: string): TsChild {
  const child = spawnTs(ENTRY, ingestEnv(world, { LOG_LEVEL: "info", ...overrides }, endpoint));
  children.push(child);
  return child;
}

const findingBodies = (n: number): string[] =>
  Array.from({ length: n }, () => JSON.stringify(eventBridgeEvent(instanceFinding())));

beforeAll(async () => {
  world = await createWorld();
  proxy = await startAwsProxy(world.moto.endpoint);
});

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await Promise.all(children.map((c) => c.exited));
  await proxy.close();
  await world.close();
});

describe("SIGTERM", () => {
  it("during a batch: finishes it, receives nothing more, exits 0", async () => {
    // One poller, so that the held batch is the only receive in flight when the signal comes.
    const child = spawnIngest({ INGEST_POLLERS: "1", SHUTDOWN_TIMEOUT_MS: "20000" }, proxy.endpoint);
    await child.waitForLine(STARTED, 30_000);

    const hold = proxy.hold("DeleteMessageBatch");
    const firstIds = await sendWhileReceivesHeld(world, proxy, 1, findingBodies(5));
    await hold.arrived;
    // The batch committed before asking for the delete: these are the messages it holds (all of them).
    const inBatch = (await receiptRows(world.db)).map((r) => r.sqs_message_id);
    expect([...inBatch].sort()).toEqual([...firstIds].sort());

    child.kill("SIGTERM");
    await child.waitForLine(/"msg":"shutting down"/);
    const receivesAtSignal = proxy.count("ReceiveMessage");
    const afterSignal = await sendBodies(world, findingBodies(3));
    hold.release();

    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.output()).toMatch(/"msg":"ingest stopped"/);
    expect(proxy.count("ReceiveMessage")).toBe(receivesAtSignal);
    expect(proxy.count("DeleteMessageBatch")).toBe(1);

    // The batch in flight was finished: recorded, enqueued and deleted.
    const receipts = await receiptRows(world.db);
    expect(receipts.map((r) => r.sqs_message_id).sort()).toEqual([...inBatch].sort());
    expect(receipts.every((r) => r.outcome === "accepted" && r.deliveries === 1)).toBe(true);
    expect(await remediationRows(world.db)).toHaveLength(inBatch.length);
    expect(await jobTotal(world)).toBe(inBatch.length);

    // What was sent after the signal is still on the queue, visible and never handed out.
    const waiting = afterSignal;
    expect(await queueDepth(world.sqs, world.queueUrl)).toEqual({ visible: waiting.length, inFlight: 0 });
    const seen = new Map<string, string | undefined>();
    for (let i = 0; i < 10 && seen.size < waiting.length; i++) {
      const out = await world.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: world.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          VisibilityTimeout: 60,
          MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        }),
      );
      for (const m of out.Messages ?? []) {
        if (m.MessageId) seen.set(m.MessageId, m.Attributes?.ApproximateReceiveCount);
        // Checked, then gone: hidden for 60 s they would hold up the next tests' drain.
        await world.sqs.send(new DeleteMessageCommand({ QueueUrl: world.queueUrl, ReceiptHandle: m.ReceiptHandle }));
      }
    }
    expect([...seen.keys()].sort()).toEqual([...waiting].sort());
    expect([...seen.values()].every((count) => count === "1")).toBe(true);
  }, 60_000);

  it("while idle and long-polling: exits 0 before its deadline", async () => {
    // A 20 s long poll against a 5 s deadline: exit code 0 means the poll was cut short.
    const child = spawnIngest({ INGEST_WAIT_TIME_SECONDS: "20", SHUTDOWN_TIMEOUT_MS: "5000" }, world.moto.endpoint);
    await child.waitForLine(STARTED, 30_000);
    child.kill("SIGTERM");
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.output()).toMatch(/"msg":"ingest stopped"/);
  }, 60_000);

  /** A process with one poller whose batch is stuck at the SQS delete (the proxy never forwards it). */
  interface Stuck {
    child: TsChild;
    messageIds: string[];
    stuck: AwsProxy;
    /** Messages on the queue (visible or not) before this test sent its own. */
    onQueueBefore: number;
  }

  async function stuckBatch(shutdownTimeoutMs: number): Promise<Stuck> {
    // An earlier test's messages come back after the 5 s visibility timeout; received first, their
    // (redelivery) delete would be the one held, before this test's messages were even recorded.
    await drainQueue();
    const stuck = await startAwsProxy(world.moto.endpoint);
    const hold = stuck.hold("DeleteMessageBatch");
    const child = spawnIngest({ INGEST_POLLERS: "1", SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs) }, stuck.endpoint);
    await child.waitForLine(STARTED, 30_000);
    const depth = await queueDepth(world.sqs, world.queueUrl);
    const messageIds = await sendBodies(world, findingBodies(2));
    await hold.arrived;
    return { child, messageIds, stuck, onQueueBefore: depth.visible + depth.inFlight };
  }

  /** Waits out earlier tests' in-flight messages (5 s visibility), then deletes every message left. */
  async function drainQueue(): Promise<void> {
    await waitUntil(async () => (await queueDepth(world.sqs, world.queueUrl)).inFlight === 0, { attempts: 150, what: "earlier messages to become visible" });
    for (;;) {
      const out = await world.sqs.send(new ReceiveMessageCommand({ QueueUrl: world.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      if (!out.Messages?.length) return;
      for (const m of out.Messages) await world.sqs.send(new DeleteMessageCommand({ QueueUrl: world.queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }

  /** The batch committed before its delete, and no message was deleted: nothing is lost. */
  async function expectRecordedButNotDeleted({ messageIds, onQueueBefore }: Stuck): Promise<void> {
    const recorded = (await receiptRows(world.db)).filter((r) => messageIds.includes(r.sqs_message_id));
    expect(recorded.length).toBeGreaterThanOrEqual(1);
    const depth = await queueDepth(world.sqs, world.queueUrl);
    expect(depth.visible + depth.inFlight).toBe(onQueueBefore + messageIds.length);
  }

  it("with a batch that cannot finish: exits 1 when the deadline passes, losing nothing", async () => {
    const stuckRun = await stuckBatch(1_500);
    const { child, stuck } = stuckRun;
    try {
      child.kill("SIGTERM");
      expect(await child.exited).toEqual({ code: 1, signal: null });
      expect(child.output()).toMatch(/"msg":"shutdown deadline passed; handlers still running"/);
      await expectRecordedButNotDeleted(stuckRun);
    } finally {
      await stuck.close();
    }
  }, 60_000);

  it("a second signal forces exit 1 at once", async () => {
    const stuckRun = await stuckBatch(30_000);
    const { child, stuck } = stuckRun;
    try {
      child.kill("SIGTERM");
      await child.waitForLine(/"msg":"shutting down"/);
      child.kill("SIGTERM");
      expect(await child.exited).toEqual({ code: 1, signal: null });
      expect(child.output()).toMatch(/"msg":"second signal: forcing exit"/);
      expect(child.output()).not.toMatch(/"msg":"ingest stopped"/);
      await expectRecordedButNotDeleted(stuckRun);
    } finally {
      await stuck.close();
    }
  }, 60_000);
});
