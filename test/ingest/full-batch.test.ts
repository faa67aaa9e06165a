// A full load of valid findings of every supported resource type, end to end through SQS: every
// message leads to exactly one receipt, one finding, one remediation routed by the default policy,
// one dispatched outbox row and one BullMQ job with the deterministic id, and leaves the queue.
import {
  accessKeyFinding,
  containerFinding,
  ecsFinding,
  eksFinding,
  eventBridgeEvent,
  instanceFinding,
  snsWrap,
  type JsonObject,
} from "@gdr/samples/findings";
import { jobIdFor } from "@gdr/core/queues/catalog";
import type { PlaybookName } from "@gdr/core/queues/playbooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../support/index.js";
import {
  allJobs,
  auditActions,
  createWorld,
  defaultPolicyDecision,
  expectedPayload,
  findingRows,
  fixtureResourceKey,
  ingestEnv,
  jobTotal,
  outboxRows,
  queueDepth,
  queueOf,
  receiptCount,
  receiptRows,
  remediationRows,
  sendBodies,
  sha256,
  startIngest,
  stringAt,
  waitForEmptyQueue,
  type RunningIngest,
  type World,
} from "./harness.js";

let world: World;
let ingest: RunningIngest;

beforeAll(async () => {
  world = await createWorld();
  ingest = await startIngest(ingestEnv(world));
});

afterAll(async () => {
  await ingest.stop();
  await world.close();
});

interface Sent {
  label: string;
  detail: JsonObject;
  body: string;
}

/** 30 findings: every resource type, EKS also wrapped in SNS, severities in every band. */
function findings(): Sent[] {
  const sent: Sent[] = [];
  const add = (label: string, detail: JsonObject, sns = false): void => {
    const event = eventBridgeEvent(detail);
    sent.push({ label, detail, body: JSON.stringify(sns ? snsWrap(event) : event) });
  };
  for (const severity of [8, 9.5, 7, 5, 2.5, 8.9, 10, 4]) add(`instance ${severity}`, instanceFinding({ severity }));
  for (const severity of [5, 8, 9, 2]) add(`eks ${severity}`, eksFinding({ severity }));
  for (const severity of [5, 8, 9.1, 3]) add(`eks via sns ${severity}`, eksFinding({ severity }), true);
  for (const severity of [8, 6, 1, 9]) add(`ecs ${severity}`, ecsFinding({ severity }));
  for (const severity of [8, 4.5, 3.9, 9.9]) add(`container ${severity}`, containerFinding({ severity }));
  for (const severity of [8, 5, 2, 10, 7.5, 4]) add(`access key ${severity}`, accessKeyFinding({ severity }));
  return sent;
}

describe("a full batch of valid findings", () => {
  it("records, routes and enqueues each message exactly once, then empties the queue", async () => {
    const sent = findings();
    expect(sent.length).toBeGreaterThanOrEqual(25);
    const messageIds = await sendBodies(world, sent.map((s) => s.body));

    await waitForEmptyQueue(world, `all ${sent.length} messages deleted from SQS`);
    expect(await receiptCount(world.db)).toBe(sent.length);

    // Receipts: one per SQS message, first delivery, accepted as new.
    const receipts = await receiptRows(world.db);
    expect(receipts.map((r) => r.sqs_message_id).sort()).toEqual([...messageIds].sort());
    const receiptOf = new Map(receipts.map((r) => [r.sqs_message_id, r]));
    sent.forEach((s, i) => {
      const receipt = receiptOf.get(messageIds[i] ?? "");
      expect(receipt, s.label).toMatchObject({
        outcome: "accepted",
        reason: "new_finding",
        finding_id: stringAt(s.detail, "id"),
        finding_count: 1,
        deliveries: 1,
        body_sha256: sha256(s.body),
        body_bytes: Buffer.byteLength(s.body, "utf8"),
        rejected_body: null,
      });
    });

    // Findings: one row each, with the resource ingest must act on.
    const findingsById = new Map((await findingRows(world.db)).map((f) => [f.id, f]));
    expect(findingsById.size).toBe(sent.length);
    for (const s of sent) {
      const row = findingsById.get(stringAt(s.detail, "id"));
      expect(row, s.label).toMatchObject({
        account_id: stringAt(s.detail, "accountId"),
        region: stringAt(s.detail, "region"),
        resource_type: stringAt(s.detail, "resource", "resourceType"),
        resource_key: fixtureResourceKey(s.detail),
        count: 1,
      });
    }

    // Remediations: one per finding, routed as the default policy says.
    const remediations = await remediationRows(world.db);
    expect(remediations).toHaveLength(sent.length);
    const remediationOf = new Map(remediations.map((r) => [r.finding_id, r]));
    for (const s of sent) {
      const findingId = stringAt(s.detail, "id");
      const severity = s.detail["severity"];
      if (typeof severity !== "number") throw new Error("fixture severity is not a number");
      const decision = defaultPolicyDecision(stringAt(s.detail, "resource", "resourceType"), severity);
      const resourceKey = fixtureResourceKey(s.detail);
      expect(remediationOf.get(findingId), s.label).toMatchObject({
        playbook: decision.playbook,
        mode: decision.mode,
        rule_name: decision.rule,
        status: "queued",
        resource_key: resourceKey,
        account_id: stringAt(s.detail, "accountId"),
        job_id: jobIdFor(decision.playbook, findingId, resourceKey),
      });
    }
    // Every mode of the default policy was exercised, so the routing check above means something.
    expect(new Set(remediations.map((r) => r.mode))).toEqual(new Set(["auto", "approval", "notify"]));

    // Outbox: one row per remediation, dispatched once, carrying the job the worker will get.
    const outbox = await outboxRows(world.db);
    expect(outbox).toHaveLength(sent.length);
    const outboxOf = new Map(outbox.map((o) => [o.remediation_id, o]));
    for (const r of remediations) {
      const row = outboxOf.get(r.id);
      expect(row?.queue).toBe(r.playbook);
      expect(row?.job_id).toBe(r.job_id);
      expect(row?.payload).toEqual(expectedPayload(r));
      expect(row?.dispatched_at).toBeInstanceOf(Date);
      expect(row?.attempts).toBe(1);
    }

    // BullMQ: exactly one job per remediation, under the deterministic id, with the same payload.
    expect(await jobTotal(world)).toBe(sent.length);
    for (const r of remediations) {
      const job = await queueOf(world, r.playbook).getJob(jobIdFor(r.playbook as PlaybookName, r.finding_id, r.resource_key));
      expect(job, `job for ${r.finding_id}`).toBeDefined();
      expect(job?.id).toBe(r.job_id);
      expect(job?.name).toBe(r.playbook);
      expect(job?.data).toEqual(expectedPayload(r));
      expect(await job?.getState()).toBe("waiting");
    }
    expect(new Set((await allJobs(world)).map((j) => j.id)).size).toBe(sent.length);

    // One audit event per remediation.
    const audit = (await auditActions(world.db)).filter((a) => a.action === "remediation.queued");
    expect(audit.map((a) => a.remediation_id).sort()).toEqual(remediations.map((r) => r.id).sort());
    expect(audit.every((a) => a.actor === "ingest")).toBe(true);

    // Nothing left on the queue, nothing dead-lettered.
    expect(await queueDepth(world.sqs, world.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(await queueDepth(world.sqs, world.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });

    // Metrics agree with the rows (counters are updated after the delete: wait for the last batch).
    await waitUntil(async () => (await ingest.metric("gdr_ingest_messages_total")) === sent.length, {
      what: "outcome counters to cover every message",
    });
    expect(await ingest.metric("gdr_ingest_messages_received_total")).toBe(sent.length);
    expect(await ingest.metric("gdr_ingest_messages_total", { outcome: "accepted", reason: "new_finding" })).toBe(sent.length);
    expect(await ingest.metric("gdr_ingest_remediations_created_total")).toBe(sent.length);
    expect(await ingest.metric("gdr_ingest_outbox_dispatched_total")).toBe(sent.length);
    expect(await ingest.metric("gdr_ingest_batch_failures_total")).toBe(0);
    expect(await ingest.metric("gdr_ingest_sqs_delete_failures_total")).toBe(0);
  });

  it("answers its probes: alive, and ready with postgres, redis and sqs ok", async () => {
    const health = await ingest.get("/healthz");
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toEqual({ status: "ok" });

    const ready = await ingest.get("/readyz");
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toEqual({
      status: "ready",
      checks: { postgres: { ok: true }, redis: { ok: true }, sqs: { ok: true } },
    });

    const metrics = await ingest.get("/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain("# TYPE gdr_ingest_messages_received_total counter");
    expect(metrics.text).toContain("# TYPE gdr_ingest_messages_total counter");
  });
});
