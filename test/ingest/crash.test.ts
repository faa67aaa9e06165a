// The ingest process dies at the worst moment: after its transaction committed and its jobs were
// enqueued, before SQS deleted the messages. A new process must recognise the redelivered messages
// and finish them without a second finding, remediation or job. And when a crash leaves outbox
// rows pending, the relay enqueues each exactly once.
import {
  accessKeyFinding,
  containerFinding,
  ecsFinding,
  eksFinding,
  eventBridgeEvent,
  instanceFinding,
} from "@gdr/samples/findings";
import type { RemediationJob } from "@gdr/core/queues/catalog";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnTs, startAwsProxy, waitUntil, type AwsProxy, type TsChild } from "../support/index.js";
import { seedPendingOutbox } from "../support/seed/outbox.js";
import {
  auditActions,
  createWorld,
  expectedPayload,
  findingRows,
  ingestEnv,
  jobTotal,
  outboxRows,
  queueDepth,
  queueOf,
  receiptCount,
  receiptRows,
  remediationRows,
  sendWhileReceivesHeld,
  startIngest,
  waitForEmptyQueue,
  type World,
} from "./harness.js";

const ENTRY = "services/ingest/src/main.ts";
const STARTED = /"msg":"ingest started"/;

let world: World;
let proxy: AwsProxy;
const children: TsChild[] = [];

function spawnIngest(endpoint: string): TsChild {
  const child = spawnTs(ENTRY, ingestEnv(world, { LOG_LEVEL: "info", SHUTDOWN_TIMEOUT_MS: "15000" }, endpoint));
  children.push(child);
  return child;
}

beforeAll(async () => {
  world = await createWorld();
  proxy = await startAwsProxy(world.moto.endpoint);
});

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await Promise.all(children.map((c) => c.exited));
  // Closing drops the held DeleteMessageBatch requests without forwarding them.
  await proxy.close();
  await world.close();
});

describe("a crash between commit and SQS delete", () => {
  it("is finished by the next process from the redelivered messages, with nothing duplicated", async () => {
    const hold = proxy.hold("DeleteMessageBatch");
    const first = spawnIngest(proxy.endpoint);
    await first.waitForLine(STARTED, 30_000);

    const bodies = [instanceFinding(), instanceFinding(), eksFinding({ severity: 8 }), ecsFinding(), containerFinding(), accessKeyFinding()].map(
      (detail) => JSON.stringify(eventBridgeEvent(detail)),
    );
    // All in one go, so that no message is left unreceived while the pollers are stuck at the delete.
    const messageIds = await sendWhileReceivesHeld(world, proxy, 4, bodies);

    // The delete was asked for, so every earlier step of its batch is done; wait until that holds
    // for every message (several pollers may have taken them in several batches).
    await hold.arrived;
    await waitUntil(
      async () =>
        (await receiptCount(world.db)) === bodies.length &&
        (await outboxRows(world.db)).filter((o) => o.dispatched_at !== null).length === bodies.length,
      { attempts: 100, what: "every message committed and enqueued" },
    );
    first.kill("SIGKILL");
    expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });

    // What the dead process left: everything recorded and enqueued, nothing deleted.
    const before = {
      receipts: await receiptRows(world.db),
      findings: await findingRows(world.db),
      remediations: await remediationRows(world.db),
    };
    expect(before.receipts.map((r) => r.sqs_message_id).sort()).toEqual([...messageIds].sort());
    expect(before.receipts.every((r) => r.deliveries === 1 && r.outcome === "accepted")).toBe(true);
    expect(before.findings).toHaveLength(bodies.length);
    expect(before.remediations).toHaveLength(bodies.length);
    expect(await jobTotal(world)).toBe(bodies.length);
    const left = await queueDepth(world.sqs, world.queueUrl);
    expect(left.visible + left.inFlight).toBe(bodies.length);
    expect(hold.held()).toBeGreaterThanOrEqual(1);

    // A new process, with SQS deletes going through again.
    const second = spawnIngest(world.moto.endpoint);
    await second.waitForLine(STARTED, 30_000);
    await waitForEmptyQueue(world, "the redelivered messages deleted", 150);

    const receipts = await receiptRows(world.db);
    expect(receipts.map((r) => r.sqs_message_id).sort()).toEqual([...messageIds].sort());
    for (const r of receipts) expect(r).toMatchObject({ outcome: "accepted", reason: "new_finding", deliveries: 2 });
    expect(await findingRows(world.db)).toEqual(before.findings);
    const remediations = await remediationRows(world.db);
    expect(remediations).toEqual(before.remediations);
    const outbox = await outboxRows(world.db);
    expect(outbox).toHaveLength(bodies.length);
    expect(outbox.every((o) => o.dispatched_at !== null && o.attempts === 1)).toBe(true);
    expect(await jobTotal(world)).toBe(bodies.length);
    for (const r of remediations) {
      expect((await queueOf(world, r.playbook).getJob(r.job_id))?.data).toEqual(expectedPayload(r));
    }
    expect((await auditActions(world.db)).filter((a) => a.action === "remediation.queued")).toHaveLength(bodies.length);
    expect(await queueDepth(world.sqs, world.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });

    second.kill("SIGTERM");
    expect(await second.exited).toEqual({ code: 0, signal: null });
  }, 90_000);
});

describe("the outbox relay", () => {
  /** A finding with its remediation and an outbox row left pending by a crash a minute ago. */
  async function pendingRemediation(): Promise<RemediationJob & { jobId: string }> {
    const pending = await seedPendingOutbox(world.db, { ageMinutes: 1 });
    return { ...pending.payload, jobId: pending.jobId };
  }

  it("enqueues outbox rows left pending by a crash exactly once, also when BullMQ already has the job", async () => {
    const jobsBefore = await jobTotal(world);
    // Crashed between commit and enqueue: BullMQ has never seen this job.
    const neverAdded = await pendingRemediation();
    // Crashed between the enqueue and marking the row dispatched: BullMQ has the job already.
    const alreadyAdded = await pendingRemediation();
    const { jobId, ...data } = alreadyAdded;
    const existing = await queueOf(world, "instance").add("instance", data, { jobId });

    const ingest = await startIngest(ingestEnv(world, { INGEST_OUTBOX_INTERVAL_MS: "200" }));
    try {
      await waitUntil(async () => (await outboxRows(world.db)).every((o) => o.dispatched_at !== null), {
        attempts: 100,
        what: "the relay to dispatch the pending rows",
      });
      const rows = (await outboxRows(world.db)).filter((o) => [neverAdded.jobId, jobId].includes(o.job_id));
      expect(rows).toHaveLength(2);
      expect(rows.every((o) => o.attempts === 1 && o.last_error === null)).toBe(true);

      expect(await jobTotal(world)).toBe(jobsBefore + 2);
      const added = await queueOf(world, "instance").getJob(neverAdded.jobId);
      const { jobId: _ignored, ...expected } = neverAdded;
      expect(added?.data).toEqual(expected);
      // The re-add was a no-op: the job BullMQ had is the same job, not a replacement.
      const kept = await queueOf(world, "instance").getJob(jobId);
      expect(kept?.timestamp).toBe(existing.timestamp);
      expect(kept?.data).toEqual(data);

      await waitUntil(async () => (await ingest.metric("gdr_ingest_outbox_pending")) === 0, { what: "the pending gauge to drop" });
      expect(await ingest.metric("gdr_ingest_outbox_dispatched_total")).toBe(2);
    } finally {
      await ingest.stop();
    }
  });
});
