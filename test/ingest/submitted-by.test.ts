// A finding that did not come from SQS (POST /v1/findings passes `submittedBy`, e.g. token:<name>)
// names its submitter: in its receipt and in a `finding.submitted` audit event that says what came
// of it. A message from SQS names nobody (submitted_by null, no such event).
import { randomUUID } from "node:crypto";
import { eventBridgeEvent, instanceFinding } from "@gdr/samples/findings";
import { parseMessageBody } from "@gdr/core/findings/index";
import { loadPolicyFile, route } from "@gdr/core/policy/index";
import { recordBatch, type ParsedMessage } from "@gdr/core/intake/record";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/index.js";
import { stringAt } from "./harness.js";

let db: TestDatabase;
const policy = loadPolicyFile("policy/default.yaml");

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db.drop();
});

function message(body: string): ParsedMessage {
  return { message: { messageId: `api-${randomUUID()}`, receiptHandle: "", body, receiveCount: 1 }, parsed: parseMessageBody(body) };
}

async function record(item: ParsedMessage, submittedBy?: string): Promise<void> {
  const deps = { route: (f: Parameters<typeof route>[0]) => route(f, policy), ...(submittedBy === undefined ? {} : { submittedBy }) };
  await db.prisma.$transaction((tx) => recordBatch(tx, [item], deps));
}

async function receipt(messageId: string) {
  const { rows } = await db.pool.query<{ outcome: string; submitted_by: string | null }>(
    "SELECT outcome::text AS outcome, submitted_by FROM ingest_receipts WHERE sqs_message_id = $1",
    [messageId],
  );
  return rows[0];
}

async function submittedEvents(messageId: string) {
  const { rows } = await db.pool.query<{ actor: string; finding_id: string | null; detail: Record<string, unknown> }>(
    "SELECT actor, finding_id, detail FROM audit_events WHERE action = 'finding.submitted' AND detail->>'messageId' = $1",
    [messageId],
  );
  return rows;
}

describe("the submitter of a finding", () => {
  it("is recorded in the receipt and in a finding.submitted audit event naming the outcome", async () => {
    const detail = instanceFinding({ severity: 8 });
    const item = message(JSON.stringify(eventBridgeEvent(detail)));
    await record(item, "token:oncall-bot");

    expect(await receipt(item.message.messageId)).toEqual({ outcome: "accepted", submitted_by: "token:oncall-bot" });
    const events = await submittedEvents(item.message.messageId);
    expect(events).toEqual([
      {
        actor: "token:oncall-bot",
        finding_id: stringAt(detail, "id"),
        detail: { messageId: item.message.messageId, outcome: "accepted", reason: "new_finding", remediationsCreated: 1 },
      },
    ]);
    const { rows } = await db.pool.query<{ submitted: string | null }>(
      "SELECT detail->>'submittedBy' AS submitted FROM audit_events WHERE action = 'remediation.queued' AND finding_id = $1",
      [stringAt(detail, "id")],
    );
    expect(rows).toEqual([{ submitted: "token:oncall-bot" }]);
  });

  it("is recorded for a rejected submission too", async () => {
    const item = message("{not json");
    await record(item, "token:careless");
    expect(await receipt(item.message.messageId)).toEqual({ outcome: "rejected", submitted_by: "token:careless" });
    expect((await submittedEvents(item.message.messageId)).map((e) => [e.actor, e.detail.outcome, e.detail.reason])).toEqual([
      ["token:careless", "rejected", "not_json"],
    ]);
  });

  it("is nobody for a message from SQS: submitted_by null and no finding.submitted event", async () => {
    const item = message(JSON.stringify(eventBridgeEvent(instanceFinding({ severity: 8 }))));
    await record(item);
    expect(await receipt(item.message.messageId)).toEqual({ outcome: "accepted", submitted_by: null });
    expect(await submittedEvents(item.message.messageId)).toEqual([]);
  });
});
