// Notifications on their own: a local HTTP receiver stands in for Slack's webhook, moto's SNS
// delivers to an SQS queue we read back. Delivery is in the background with bounded retries, a
// broken channel never reaches the caller, and the webhook URL (a secret) never reaches a log.
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createLogger } from "@gdr/core/log";
import { createMetricsRegistry, type Registry } from "@gdr/core/metrics";
import {
  createFanOutNotifier,
  createNotifier,
  createSlackSender,
  createSnsSender,
  remediationLink,
  snsSubject,
  TOPIC_ARN,
  webhookUrlProblem,
  type FanOutNotifier,
  type NotificationEvent,
} from "@gdr/core/notify/index";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { awsTestEnv, freePort, startMoto, type Moto } from "../support/index.js";
import { startReceiver, type Receiver } from "./receiver.js";

const TOKEN_PATH = "/services/T0000000/B0000000/s3cr3tW3bh00kT0k3n";
const FAST = { baseDelayMs: 5, maxDelayMs: 20 };

function event(kind: NotificationEvent["kind"] = "awaiting_approval"): NotificationEvent {
  const remediationId = "rem-0001";
  return {
    kind,
    remediationId,
    findingId: "finding-1",
    playbook: "instance",
    resourceKey: "i-0123456789abcdef0",
    accountId: "123456789012",
    region: "us-east-1",
    mode: "approval",
    detail: "isolate failed: <AccessDenied> & more",
    link: remediationLink("http://127.0.0.1:8080/", remediationId),
  };
}

interface Harness {
  notifier: FanOutNotifier;
  registry: Registry;
  logs: string[];
}

const receivers: Receiver[] = [];
const notifiers: FanOutNotifier[] = [];

function slackNotifier(url: string, attempts = 5): Harness {
  const logs: string[] = [];
  const logger = createLogger({ level: "debug", name: "test", destination: { write: (chunk: string) => void logs.push(chunk) } });
  const registry = createMetricsRegistry({ service: "test" });
  const notifier = createFanOutNotifier({ senders: [createSlackSender({ webhookUrl: url, timeoutMs: 5_000 })], logger, registry, retry: { ...FAST, attempts } });
  notifiers.push(notifier);
  return { notifier, registry, logs };
}

async function receiver(answer?: (n: number) => number | null): Promise<Receiver> {
  const r = await startReceiver(answer);
  receivers.push(r);
  return r;
}

async function counted(registry: Registry, channel: string, outcome: string): Promise<number> {
  const metric = registry.getSingleMetric("gdr_notifications_total");
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => v.labels["channel"] === channel && v.labels["outcome"] === outcome).reduce((sum, v) => sum + v.value, 0);
}

/** notify() must come back at once: timed, and it must not throw. */
function notifyTimed(notifier: FanOutNotifier, e: NotificationEvent): number {
  const started = performance.now();
  notifier.notify(e);
  return performance.now() - started;
}

afterEach(async () => {
  await Promise.all(notifiers.splice(0).map((n) => n.drain(1_000)));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

describe("validation", () => {
  it("accepts https webhooks and loopback http only", () => {
    expect(webhookUrlProblem("https://hooks.slack.com/services/T1/B2/abc")).toBeNull();
    expect(webhookUrlProblem("http://127.0.0.1:9999/hook")).toBeNull();
    expect(webhookUrlProblem("http://localhost/hook")).toBeNull();
    for (const bad of ["http://hooks.slack.com/services/x", "ftp://x/y", "https://user:pw@hooks.slack.com/x", "https://hooks.slack.com/x#y", "not a url", "javascript:alert(1)"]) {
      const problem = webhookUrlProblem(bad);
      expect(problem, bad).not.toBeNull();
      expect(problem).not.toContain(bad);
    }
    expect(() => createSlackSender({ webhookUrl: "http://example.com/services/T/B/secret" })).toThrow(/https/);
    expect(() => createSlackSender({ webhookUrl: "http://example.com/services/T/B/secret" })).not.toThrow(/secret/);
  });

  it("accepts topic ARNs only", () => {
    expect(TOPIC_ARN.test("arn:aws:sns:us-east-1:123456789012:gdr-alerts")).toBe(true);
    expect(TOPIC_ARN.test("arn:aws-us-gov:sns:us-gov-west-1:123456789012:gdr.fifo")).toBe(true);
    for (const bad of ["arn:aws:sqs:us-east-1:123456789012:q", "arn:aws:sns:us-east-1:12345:t", "arn:aws:sns:us-east-1:123456789012:a/b", "gdr"]) {
      expect(TOPIC_ARN.test(bad), bad).toBe(false);
    }
    expect(() => createSnsSender({ topicArn: "arn:aws:sns:us-east-1:1:x" })).toThrow(/topic ARN/);
  });

  it("keeps the SNS subject within 100 printable characters", () => {
    const subject = snsSubject({ ...event(), resourceKey: `i-${"x".repeat(200)}`, playbook: "instance\n" });
    expect(subject.length).toBeLessThanOrEqual(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe("Slack webhook", () => {
  it("delivers the message with the link to the approval page", async () => {
    const r = await receiver();
    const h = slackNotifier(`${r.url}${TOKEN_PATH}`);
    expect(notifyTimed(h.notifier, event())).toBeLessThan(50);
    await r.waitFor(1);
    const [got] = r.requests;
    expect(got?.path).toBe(TOKEN_PATH);
    expect(got?.body.text).toBe("Remediation awaiting approval: instance on i-0123456789abcdef0 (123456789012/us-east-1)");
    const json = JSON.stringify(got?.body.blocks);
    expect(json).toContain("http://127.0.0.1:8080/ui/#rem-0001");
    // Slack's mrkdwn control characters in the detail are escaped.
    expect(json).toContain("&lt;AccessDenied&gt; &amp; more");
    await h.notifier.drain();
    expect(await counted(h.registry, "slack", "delivered")).toBe(1);
  });

  it("retries with backoff: failing twice with 500, delivered on the third attempt", async () => {
    const r = await receiver((n) => (n <= 2 ? 500 : 200));
    const h = slackNotifier(`${r.url}${TOKEN_PATH}`);
    h.notifier.notify(event("succeeded"));
    await r.waitFor(3);
    await h.notifier.drain();
    expect(r.requests).toHaveLength(3);
    expect(await counted(h.registry, "slack", "retried")).toBe(2);
    expect(await counted(h.registry, "slack", "delivered")).toBe(1);
    expect(await counted(h.registry, "slack", "failed")).toBe(0);
  });

  it("a receiver that always fails: notify returns at once, bounded attempts, counted as failed", async () => {
    const r = await receiver(() => 503);
    const h = slackNotifier(`${r.url}${TOKEN_PATH}`, 5);
    expect(() => notifyTimed(h.notifier, event("failed"))).not.toThrow();
    expect(notifyTimed(h.notifier, event("failed"))).toBeLessThan(50);
    await h.notifier.drain(10_000);
    expect(r.requests).toHaveLength(10);
    expect(await counted(h.registry, "slack", "failed")).toBe(2);
    expect(await counted(h.registry, "slack", "retried")).toBe(8);
    expect(await counted(h.registry, "slack", "delivered")).toBe(0);
  });

  it("a 4xx is not retried (the webhook is gone or the message is wrong)", async () => {
    const r = await receiver(() => 404);
    const h = slackNotifier(`${r.url}${TOKEN_PATH}`);
    h.notifier.notify(event());
    await h.notifier.drain();
    expect(r.requests).toHaveLength(1);
    expect(await counted(h.registry, "slack", "failed")).toBe(1);
  });

  it("drain is bounded: a receiver that never answers is abandoned at the deadline", async () => {
    const r = await receiver(() => null);
    const h = slackNotifier(`${r.url}${TOKEN_PATH}`);
    h.notifier.notify(event());
    await r.waitFor(1);
    const started = performance.now();
    await h.notifier.drain(200);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(h.notifier.inFlight()).toBe(0);
    expect(await counted(h.registry, "slack", "dropped")).toBe(1);
    // After the drain, new events are dropped, not sent.
    h.notifier.notify(event());
    expect(r.requests).toHaveLength(1);
  });

  it("never logs the webhook URL, whatever goes wrong", async () => {
    const failing = await receiver((n) => (n === 1 ? 500 : 404));
    const refusedPort = await freePort();
    const logs: string[] = [];
    const logger = createLogger({ level: "trace", name: "test", destination: { write: (chunk: string) => void logs.push(chunk) } });
    const registry = createMetricsRegistry({ service: "test" });
    const urls = [`${failing.url}${TOKEN_PATH}`, `http://127.0.0.1:${refusedPort}${TOKEN_PATH}`];
    const notifier = createFanOutNotifier({ senders: urls.map((webhookUrl) => createSlackSender({ webhookUrl })), logger, registry, retry: { ...FAST, attempts: 2 } });
    notifiers.push(notifier);
    notifier.notify(event());
    await notifier.drain(10_000);
    // Also what the worker logs at start-up about its channels.
    createNotifier({ slackWebhookUrl: urls[0] }, { logger, registry });

    const text = logs.join("");
    expect(text).toContain("notification not delivered");
    expect(text).toContain("ECONNREFUSED");
    expect(text).toContain("HTTP 404");
    expect(text).not.toContain("s3cr3tW3bh00kT0k3n");
    expect(text).not.toContain("/services/");
  });
});

describe("SNS topic (moto)", () => {
  let moto: Moto;
  let sns: SNSClient;
  let sqs: SQSClient;

  beforeAll(async () => {
    moto = await startMoto();
    const aws = awsTestEnv(moto.endpoint);
    sns = new SNSClient(aws);
    sqs = new SQSClient(aws);
  });

  afterAll(async () => {
    sns.destroy();
    sqs.destroy();
    await moto.stop();
  });

  it("publishes the event as JSON with its kind as an attribute", async () => {
    const topic = await sns.send(new CreateTopicCommand({ Name: "gdr-notifications" }));
    const topicArn = topic.TopicArn ?? "";
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: "gdr-notifications-inbox" }));
    const queueUrl = queue.QueueUrl ?? "";
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: "sqs", Endpoint: attrs.Attributes?.["QueueArn"] ?? "" }));

    const registry = createMetricsRegistry({ service: "test" });
    const logger = createLogger({ level: "silent", name: "test" });
    const notifier = createFanOutNotifier({ senders: [createSnsSender({ topicArn, client: sns })], logger, registry, retry: FAST });
    notifiers.push(notifier);
    const sent = event("failed");
    notifier.notify(sent);
    await notifier.drain(10_000);
    expect(await counted(registry, "sns", "delivered")).toBe(1);

    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 10 }));
    expect(received.Messages).toHaveLength(1);
    const envelope = JSON.parse(received.Messages?.[0]?.Body ?? "{}") as {
      Type: string;
      Subject: string;
      Message: string;
      MessageAttributes?: Record<string, { Value: string }>;
    };
    expect(envelope.Type).toBe("Notification");
    expect(envelope.Subject).toBe(snsSubject(sent));
    expect(JSON.parse(envelope.Message)).toEqual(sent);
    expect(envelope.MessageAttributes?.["kind"]?.Value).toBe("failed");
  });
});
