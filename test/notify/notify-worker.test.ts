// Notifications through the real worker (in this process, with ingest): an approval-mode finding
// stops at the gate, and the people on the Slack webhook and the SNS topic hear about it, with
// the link to the approval page. The remediation itself never waits on delivery.
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsTestEnv } from "../support/index.js";
import {
  createEngineWorld,
  findingFor,
  findingIdOf,
  metricValue,
  remediationForFinding,
  seed,
  startLane,
  waitForStatus,
  type EngineWorld,
  type Lane,
} from "../worker/engine-harness.js";
import { startReceiver, type Receiver } from "./receiver.js";

const POLICY = ["version: 1", 'accounts: { allow: ["*"] }', "rules:", "  - { name: all-approval, match: { severity: [low, medium, high, critical] }, mode: approval }", ""].join("\n");
const PUBLIC_URL = "https://responder.example.test";
const HOOK_PATH = "/services/T0000000/B0000000/w0rk3rT0k3n";

let world: EngineWorld;
let lane: Lane;
let slack: Receiver;
let sns: SNSClient;
let inboxUrl: string;

beforeAll(async () => {
  world = await createEngineWorld();
  slack = await startReceiver();
  sns = new SNSClient(awsTestEnv(world.moto.endpoint));
  const topic = await sns.send(new CreateTopicCommand({ Name: "gdr-worker-notifications" }));
  const inbox = await world.sqs.send(new CreateQueueCommand({ QueueName: "gdr-worker-notifications-inbox" }));
  inboxUrl = inbox.QueueUrl ?? "";
  const attrs = await world.sqs.send(new GetQueueAttributesCommand({ QueueUrl: inboxUrl, AttributeNames: ["QueueArn"] }));
  await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: "sqs", Endpoint: attrs.Attributes?.["QueueArn"] }));
  lane = await startLane(world, {
    policy: POLICY,
    worker: { NOTIFY_SLACK_WEBHOOK_URL: `${slack.url}${HOOK_PATH}`, NOTIFY_SNS_TOPIC_ARN: topic.TopicArn ?? "", PUBLIC_URL },
  });
});

afterAll(async () => {
  await world.close();
  await slack.close();
  sns.destroy();
});

describe("the worker notifies", () => {
  it("when an approval-mode remediation reaches the gate", async () => {
    const seeded = await seed(world);
    const detail = findingFor(seeded, { severity: 5 });
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));
    const waiting = await waitForStatus(world.db, queued.id, ["awaiting_approval", "failed", "succeeded"]);
    expect(waiting.status).toBe("awaiting_approval");

    await slack.waitFor(1);
    const [message] = slack.requests;
    expect(message?.path).toBe(HOOK_PATH);
    expect(message?.body.text).toMatch(/^Remediation awaiting approval: instance on i-/);
    expect(JSON.stringify(message?.body.blocks)).toContain(`${PUBLIC_URL}/ui/#${queued.id}`);

    const received = await world.sqs.send(new ReceiveMessageCommand({ QueueUrl: inboxUrl, WaitTimeSeconds: 10, MaxNumberOfMessages: 10 }));
    expect(received.Messages).toHaveLength(1);
    const envelope = JSON.parse(received.Messages?.[0]?.Body ?? "{}") as { Message: string };
    expect(JSON.parse(envelope.Message)).toMatchObject({
      kind: "awaiting_approval",
      remediationId: queued.id,
      findingId: findingIdOf(detail),
      resourceKey: seeded.instanceId,
      mode: "approval",
      link: `${PUBLIC_URL}/ui/#${queued.id}`,
    });

    const worker = lane.worker;
    if (!worker) throw new Error("the lane has no worker");
    const metrics = await worker.metrics();
    expect(metricValue(metrics, "gdr_notifications_total", { channel: "slack", outcome: "delivered" })).toBe(1);
    expect(metricValue(metrics, "gdr_notifications_total", { channel: "sns", outcome: "delivered" })).toBe(1);
    // The webhook's token is nowhere in the worker's logs.
    expect(JSON.stringify(worker.logs.lines)).not.toContain("w0rk3rT0k3n");
  });
});
