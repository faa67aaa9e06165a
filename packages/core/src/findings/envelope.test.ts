import { describe, expect, it } from "vitest";
import {
  eventBridgeEvent,
  instanceFinding,
  setIn,
  snsSubscriptionConfirmation,
  snsWrap,
  type JsonObject,
} from "@gdr/samples/findings";
import { parseMessageBody } from "./index.js";
import { expectFinding, expectIgnored, expectRejected, parseDetail, parseJson } from "@gdr/samples/parse-helpers";

describe("EventBridge envelope", () => {
  it("accepts a GuardDuty Finding event and says it came from EventBridge", () => {
    const finding = expectFinding(parseDetail(instanceFinding()));
    expect(finding.envelope).toBe("eventbridge");
  });

  it("accepts an event whose account differs from the finding's (delegated administrator)", () => {
    const detail = instanceFinding({ accountId: "444455556666" });
    const finding = expectFinding(parseDetail(detail, { account: "111122223333" }));
    expect(finding.accountId).toBe("444455556666");
  });

  it("refuses an event account that is not 12 digits", () => {
    expect(expectRejected(parseDetail(instanceFinding(), { account: "１１１１22223333" }), "invalid_envelope")).toContain(
      "event.account",
    );
  });

  it("ignores events from other sources", () => {
    const event = eventBridgeEvent(instanceFinding(), { source: "aws.ec2", detailType: "EC2 Instance State-change Notification" });
    expect(expectIgnored(parseJson(event), "not_guardduty_event")).toContain("aws.ec2");
  });

  it("ignores other GuardDuty event types", () => {
    const event = eventBridgeEvent(instanceFinding(), { detailType: "GuardDuty Runtime Protection Unhealthy" });
    expectIgnored(parseJson(event), "not_guardduty_event");
  });

  it("refuses a GuardDuty event without detail, or with a detail that is not an object", () => {
    const event = eventBridgeEvent(instanceFinding());
    Reflect.deleteProperty(event, "detail");
    expect(expectRejected(parseJson(event), "invalid_envelope")).toContain("event.detail");
    expectRejected(parseJson({ ...event, detail: [instanceFinding()] }), "invalid_envelope");
    expectRejected(parseJson({ ...event, detail: "finding" }), "invalid_envelope");
  });

  it.each([
    ["an array", [eventBridgeEvent(instanceFinding())]],
    ["a string", "GuardDuty Finding"],
    ["null", null],
    ["a number", 42],
  ])("refuses a body that is %s", (_label, value) => {
    expect(expectRejected(parseJson(value), "invalid_envelope")).toMatch(/expected a JSON object/);
  });

  it("refuses an object that is neither an event nor an SNS message", () => {
    expectRejected(parseJson({ hello: "world" }), "invalid_envelope");
  });
});

describe("SNS envelope", () => {
  it("unwraps an SNS notification holding the event", () => {
    const detail = instanceFinding();
    const finding = expectFinding(parseJson(snsWrap(eventBridgeEvent(detail))));
    expect(finding.envelope).toBe("sns");
    expect(finding.id).toBe(detail["id"]);
  });

  it("rejects a notification wrapped twice (only one layer is unwrapped, by design)", () => {
    const twice = snsWrap(snsWrap(eventBridgeEvent(instanceFinding())));
    expect(expectRejected(parseJson(twice), "invalid_sns_notification")).toMatch(/one level/);
  });

  it("ignores subscription and unsubscribe confirmations", () => {
    expectIgnored(parseJson(snsSubscriptionConfirmation()), "sns_subscription_message");
    const unsubscribe = { ...snsSubscriptionConfirmation(), Type: "UnsubscribeConfirmation" };
    expectIgnored(parseJson(unsubscribe), "sns_subscription_message");
  });

  it("rejects malformed notifications with the field at fault", () => {
    const good = snsWrap(eventBridgeEvent(instanceFinding()));
    expect(expectRejected(parseJson({ ...good, Message: { not: "a string" } }), "invalid_sns_notification")).toContain(
      "Message",
    );
    const sqsArn = { ...good, TopicArn: "arn:aws:sqs:us-east-1:111122223333:q" };
    expect(expectRejected(parseJson(sqsArn), "invalid_sns_notification")).toContain("TopicArn");
    expectRejected(parseJson({ ...good, Type: "Telegram" }), "invalid_sns_notification");
  });

  it("applies the safe-json checks to the Message text too", () => {
    const good = snsWrap(eventBridgeEvent(instanceFinding()));
    expectRejected(parseJson({ ...good, Message: "not json at all" }), "not_json");
    expectRejected(parseJson({ ...good, Message: "[".repeat(10_000) + "]".repeat(10_000) }), "too_deep");
    expectRejected(parseJson({ ...good, Message: '{"source":"aws.guardduty","__proto__":{}}' }), "hostile_key");
    expectRejected(parseJson({ ...good, Message: '{"a":"\\u0000"}' }), "invalid_characters");
  });

  it("ignores a non-GuardDuty event delivered through SNS", () => {
    const event = eventBridgeEvent(instanceFinding(), { source: "aws.securityhub", detailType: "Security Hub Findings - Imported" });
    expectIgnored(parseJson(snsWrap(event)), "not_guardduty_event");
  });

  it("parses a body that arrives as raw text exactly as SQS hands it over", () => {
    const detail: JsonObject = setIn(instanceFinding(), ["title"], "Line one\nline two \"quoted\" ünïcödé");
    const body = JSON.stringify(snsWrap(eventBridgeEvent(detail)));
    expect(expectFinding(parseMessageBody(body)).title).toBe("Line one\nline two \"quoted\" ünïcödé");
  });
});
