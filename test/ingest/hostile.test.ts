// Every class of message that must not lead to a remediation, end to end through SQS: each gets
// exactly one receipt with a precise outcome and reason, rejected bodies are kept verbatim (capped,
// with the sha256 of the whole body), nothing is enqueued, every message leaves the queue (none is
// dead-lettered), and the poller goes on to process a valid finding sent after them.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  eventBridgeEvent,
  instanceFinding,
  s3Finding,
  setIn,
  snsSubscriptionConfirmation,
  snsWrap,
  type JsonObject,
  type JsonValue,
} from "@gdr/samples/findings";
import { jobIdFor } from "@gdr/core/queues/catalog";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../support/index.js";
import {
  auditActions,
  createWorld,
  findingRows,
  ingestEnv,
  jobTotal,
  outboxRows,
  queueDepth,
  queueOf,
  receiptCount,
  receiptRows,
  remediationRows,
  sendBodies,
  sendBody,
  sha256,
  startIngest,
  stringAt,
  waitForEmptyQueue,
  type RunningIngest,
  type World,
} from "./harness.js";

/** The one account the test policy allows; findings from any other are ignored. */
const ACCOUNT = "123456789012";
const FOREIGN_ACCOUNT = "111122223333";
const MAX_BODY_BYTES = 8192;
const REJECTED_BODY_CAP = 64 * 1024;

let world: World;
let ingest: RunningIngest;
let policyDir: string;

beforeAll(async () => {
  policyDir = await mkdtemp(join(tmpdir(), "gdr-hostile-policy-"));
  const policyFile = join(policyDir, "policy.yaml");
  await writeFile(
    policyFile,
    [
      "version: 1",
      "accounts:",
      `  allow: ["${ACCOUNT}"]`,
      "rules:",
      "  - name: contain-everything",
      "    match: {}",
      "    mode: auto",
      "",
    ].join("\n"),
  );
  world = await createWorld();
  ingest = await startIngest(ingestEnv(world, { INGEST_MAX_BODY_BYTES: String(MAX_BODY_BYTES), POLICY_FILE: policyFile }));
});

afterAll(async () => {
  await ingest.stop();
  await world.close();
  await rm(policyDir, { recursive: true, force: true });
});

interface Case {
  label: string;
  body: string;
  outcome: "rejected" | "ignored";
  reason: string;
  /** The finding id the receipt names (findings that parsed and were then ignored by policy). */
  findingId?: string;
}

const json = (value: JsonValue): string => JSON.stringify(value);
const event = (detail: JsonObject): string => json(eventBridgeEvent(detail));
const valid = (): JsonObject => instanceFinding({ accountId: ACCOUNT });

function nested(depth: number): JsonValue {
  let value: JsonValue = "bottom";
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

function replaceOnce(text: string, search: string, replacement: string): string {
  const out = text.replace(search, replacement);
  if (out === text) throw new Error(`fixture does not contain ${search}`);
  return out;
}

function ignoredFinding(label: string, detail: JsonObject, reason: string): Case {
  return { label, body: event(detail), outcome: "ignored", reason, findingId: stringAt(detail, "id") };
}

function cases(): Case[] {
  const mismatched = valid();
  setIn(mismatched, ["arn"], replaceOnce(stringAt(mismatched, "arn"), `:${ACCOUNT}:`, ":999988887777:"));
  const rejected = (label: string, body: string, reason: string): Case => ({ label, body, outcome: "rejected", reason });
  return [
    rejected("not JSON", "GuardDuty finding: i-0123456789abcdef0 is mining", "not_json"),
    rejected("truncated JSON", event(valid()).slice(0, 300), "not_json"),
    rejected("JSON array", json([eventBridgeEvent(valid())]), "invalid_envelope"),
    rejected("JSON string", json("a finding"), "invalid_envelope"),
    rejected("JSON null", "null", "invalid_envelope"),
    rejected("JSON number", "42", "invalid_envelope"),
    rejected("deeply nested arrays", `${"[".repeat(200)}${"]".repeat(200)}`, "too_deep"),
    rejected("deeply nested object inside a finding", event(setIn(valid(), ["resource", "extra"], nested(40))), "too_deep"),
    rejected(
      "__proto__ key",
      replaceOnce(event(valid()), '"resource":{', '"resource":{"__proto__":{"isAdmin":true},'),
      "hostile_key",
    ),
    rejected(
      "constructor key",
      event(setIn(valid(), ["resource", "instanceDetails", "constructor"], { prototype: { polluted: true } })),
      "hostile_key",
    ),
    // moto carries a raw NUL (real SQS refuses it); the escaped form is what real SQS can carry.
    rejected("raw NUL character", replaceOnce(event(valid()), '"title":"', '"title":"\u0000'), "invalid_characters"),
    rejected("escaped NUL character", event(setIn(valid(), ["title"], "miner\u0000")), "invalid_characters"),
    rejected(
      "look-alike instance id (Cyrillic \u0456)",
      event(instanceFinding({ accountId: ACCOUNT, instanceId: "\u0456-0123456789abcdef0" })),
      "invalid_identifier",
    ),
    rejected(
      "account id in fullwidth digits",
      json(eventBridgeEvent(instanceFinding({ accountId: "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10\uff11\uff12" }), { account: ACCOUNT })),
      "invalid_identifier",
    ),
    rejected("severity 0", event(setIn(valid(), ["severity"], 0)), "invalid_finding"),
    rejected("severity 11", event(setIn(valid(), ["severity"], 11)), "invalid_finding"),
    rejected("finding ARN in another account", event(mismatched), "account_mismatch"),
    // A parser differential: JSON.parse keeps the last instanceId, a filter reading the first sees another.
    rejected(
      "duplicated instanceId key",
      replaceOnce(event(valid()), '"instanceId":"', '"instanceId":"i-0fedcba9876543210","instanceId":"'),
      "invalid_json",
    ),
    rejected(
      "duplicated resourceType key inside the SNS Message",
      json({ ...snsWrap(eventBridgeEvent(valid())), Message: replaceOnce(event(valid()), '"resourceType":"Instance"', '"resourceType":"S3Bucket","resourceType":"Instance"') }),
      "invalid_json",
    ),
    rejected("SNS notification wrapping an SNS notification", json(snsWrap(snsWrap(eventBridgeEvent(valid())))), "invalid_sns_notification"),
    {
      label: "not a GuardDuty event",
      body: json(eventBridgeEvent(valid(), { source: "aws.ec2", detailType: "EC2 Instance State-change Notification" })),
      outcome: "ignored",
      reason: "not_guardduty_event",
    },
    { label: "SNS subscription confirmation", body: json(snsSubscriptionConfirmation()), outcome: "ignored", reason: "sns_subscription_message" },
    ignoredFinding("archived finding", instanceFinding({ accountId: ACCOUNT, archived: true }), "archived"),
    ignoredFinding("GuardDuty sample finding", instanceFinding({ accountId: ACCOUNT, sample: true }), "sample_finding"),
    ignoredFinding("account outside the allow list", instanceFinding({ accountId: FOREIGN_ACCOUNT }), "account_not_allowed"),
    // Low only: on a medium-or-higher finding the tag asks for approval instead (exemptions.test.ts).
    ignoredFinding(
      "exempt-tagged instance, low finding",
      instanceFinding({ accountId: ACCOUNT, severity: 2, tags: [{ key: "guardduty-remediation", value: "exempt" }] }),
      "exempt_tag",
    ),
    ignoredFinding("S3 finding", s3Finding({ accountId: ACCOUNT }), "unsupported_resource_type"),
  ];
}

/** Larger than the body limit and than the 64 KiB kept of a rejected body; multi-byte text. */
function oversize(): Case {
  const body = event(setIn(valid(), ["description"], "\u00fc".repeat(50_000)));
  return { label: "oversize body", body, outcome: "rejected", reason: "body_too_large" };
}

describe("hostile and unwanted messages", () => {
  it("records each one precisely, enqueues nothing and deletes them all", async () => {
    const all = [...cases(), oversize()];
    const small = all.slice(0, -1);
    const big = all[all.length - 1];
    if (!big) throw new Error("no oversize case");
    expect(Buffer.byteLength(big.body, "utf8")).toBeGreaterThan(REJECTED_BODY_CAP);

    const messageIds = [...(await sendBodies(world, small.map((c) => c.body))), await sendBody(world, big.body)];
    await waitForEmptyQueue(world, `all ${all.length} hostile messages deleted`);

    const receipts = await receiptRows(world.db);
    expect(receipts).toHaveLength(all.length);
    const receiptOf = new Map(receipts.map((r) => [r.sqs_message_id, r]));
    all.forEach((c, i) => {
      const receipt = receiptOf.get(messageIds[i] ?? "");
      const bytes = Buffer.from(c.body, "utf8");
      expect(receipt, c.label).toMatchObject({
        outcome: c.outcome,
        reason: c.reason,
        finding_id: c.findingId ?? null,
        body_sha256: sha256(bytes),
        body_bytes: bytes.length,
        deliveries: 1,
      });
      if (c.outcome === "rejected") {
        // Verbatim, byte for byte, up to the cap.
        const kept = receipt?.rejected_body;
        expect(kept, c.label).toBeInstanceOf(Buffer);
        expect(kept?.length, c.label).toBe(Math.min(bytes.length, REJECTED_BODY_CAP));
        expect(kept?.equals(bytes.subarray(0, REJECTED_BODY_CAP)), c.label).toBe(true);
      } else {
        expect(receipt?.rejected_body, c.label).toBeNull();
      }
      expect(receipt?.detail, c.label).toBeTruthy();
    });
    expect(receiptOf.get(messageIds[messageIds.length - 1] ?? "")?.rejected_body?.length).toBe(REJECTED_BODY_CAP);

    // Only findings that parsed and were then set aside by policy are stored; nothing is acted on.
    expect((await findingRows(world.db)).map((f) => f.id).sort()).toEqual(
      all.flatMap((c) => (c.findingId ? [c.findingId] : [])).sort(),
    );
    expect(await remediationRows(world.db)).toEqual([]);
    expect(await outboxRows(world.db)).toEqual([]);
    expect((await auditActions(world.db)).filter((a) => a.action === "remediation.queued")).toEqual([]);
    expect(await jobTotal(world)).toBe(0);

    expect(await queueDepth(world.sqs, world.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(await queueDepth(world.sqs, world.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
    await waitUntil(async () => (await ingest.metric("gdr_ingest_messages_total")) === all.length, {
      what: "outcome counters to cover every message",
    });
    expect(await ingest.metric("gdr_ingest_messages_total", { outcome: "rejected" })).toBe(
      all.filter((c) => c.outcome === "rejected").length,
    );
    expect(await ingest.metric("gdr_ingest_messages_total", { outcome: "rejected", reason: "body_too_large" })).toBe(1);
    expect(await ingest.metric("gdr_ingest_batch_failures_total")).toBe(0);
  });

  it("still processes a valid finding sent after them", async () => {
    const detail = valid();
    const findingId = stringAt(detail, "id");
    const instanceId = stringAt(detail, "resource", "instanceDetails", "instanceId");
    const messageId = await sendBody(world, event(detail));
    await waitForEmptyQueue(world, "the valid finding deleted");

    expect((await receiptRows(world.db)).find((r) => r.sqs_message_id === messageId)).toMatchObject({
      outcome: "accepted",
      reason: "new_finding",
      finding_id: findingId,
    });
    const remediations = await remediationRows(world.db);
    expect(remediations).toHaveLength(1);
    // The rule of the test policy, not of the default one: POLICY_FILE was read.
    expect(remediations[0]).toMatchObject({ finding_id: findingId, playbook: "instance", mode: "auto", rule_name: "contain-everything" });
    expect(await queueOf(world, "instance").getJob(jobIdFor("instance", findingId, instanceId))).toBeDefined();
    expect(await jobTotal(world)).toBe(1);
    expect(await receiptCount(world.db)).toBe(cases().length + 2);
    expect((await ingest.get("/healthz")).status).toBe(200);
  });
});
