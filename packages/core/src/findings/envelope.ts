import { z } from "zod";
import { formatPath, jsonKind, preview } from "./describe.js";
import { ACCOUNT_ID, SNS_TOPIC_ARN } from "./patterns.js";
import type { IgnoreReason, RejectReason } from "./reasons.js";
import { parseSafeJson, type ParseOptions } from "./safe-json.js";

/**
 * The two envelopes a finding can arrive in on the SQS queue:
 *
 * 1. An EventBridge event, `source` "aws.guardduty", `detail-type` "GuardDuty Finding", whose
 *    `detail` is one finding (an EventBridge rule targeting SQS directly).
 * 2. The same event inside an SNS notification (`Type` "Notification", the event as a JSON string
 *    in `Message`), when the rule targets an SNS topic the queue subscribes to without raw message
 *    delivery. It is unwrapped once, and the inner text passes the same safe-json checks.
 *
 * Other EventBridge events (other sources, other GuardDuty detail types such as "GuardDuty Runtime
 * Protection Unhealthy") are ignored, and so are SNS subscription/unsubscribe confirmations.
 *
 * An SNS notification whose Message is itself an SNS message is rejected: GuardDuty to EventBridge
 * to SNS wraps exactly once, so a second layer is a misconfigured topic-to-topic fan-out or a
 * crafted message, and rejecting makes it visible instead of silently peeling layers.
 *
 * SNS signatures are not verified: the queue's policy decides who can send to it.
 */

export type EnvelopeResult =
  | { status: "event"; event: GuardDutyEvent; envelope: "eventbridge" | "sns" }
  | { status: "ignored"; reason: IgnoreReason; message: string }
  | { status: "rejected"; reason: RejectReason; message: string };

export const GUARDDUTY_SOURCE = "aws.guardduty";
export const GUARDDUTY_FINDING_DETAIL_TYPE = "GuardDuty Finding";

const SNS_CONFIRMATIONS = new Set(["SubscriptionConfirmation", "UnsubscribeConfirmation"]);

/** The EventBridge event fields this service reads; other keys are allowed and ignored. */
const eventSchema = z.object({
  version: z.string().max(16).nullish(),
  id: z.string().max(128).nullish(),
  "detail-type": z.literal(GUARDDUTY_FINDING_DETAIL_TYPE),
  source: z.literal(GUARDDUTY_SOURCE),
  // The account whose bus received the event. With a delegated administrator it differs from the
  // finding's accountId, which is normal; it is only checked for form.
  account: z.string().regex(ACCOUNT_ID.regex, { error: `must be ${ACCOUNT_ID.label}` }).nullish(),
  time: z.string().max(64).nullish(),
  region: z.string().max(64).nullish(),
  detail: z.record(z.string(), z.unknown(), { error: "must be an object (the finding)" }),
});
export type GuardDutyEvent = z.infer<typeof eventSchema>;

const snsNotificationSchema = z.object({
  Type: z.literal("Notification"),
  MessageId: z.string().min(1).max(128),
  TopicArn: z.string().regex(SNS_TOPIC_ARN.regex, { error: `must be ${SNS_TOPIC_ARN.label}` }),
  Message: z.string({ error: "must be a string holding the EventBridge event" }),
});

export function unwrapEnvelope(value: unknown, options: ParseOptions): EnvelopeResult {
  if (!isObject(value)) {
    return rejected(
      "invalid_envelope",
      `message body is ${jsonKind(value)}, expected a JSON object (EventBridge event or SNS notification)`,
    );
  }
  return looksLikeSns(value) ? unwrapSns(value, options) : readEvent(value, "eventbridge");
}

function unwrapSns(value: Record<string, unknown>, options: ParseOptions): EnvelopeResult {
  const type = value["Type"];
  if (typeof type === "string" && SNS_CONFIRMATIONS.has(type)) {
    return { status: "ignored", reason: "sns_subscription_message", message: `SNS ${type} message, not a finding` };
  }
  if (type !== "Notification") {
    return rejected("invalid_sns_notification", `SNS Type is ${preview(type)}, expected "Notification"`);
  }
  const parsed = snsNotificationSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = formatPath("SNS notification", issue?.path ?? []);
    return rejected("invalid_sns_notification", `${where}: ${issue?.message ?? "invalid"}`);
  }
  const inner = parseSafeJson(parsed.data.Message, options, "SNS Message");
  if (!inner.ok) return rejected(inner.reason, inner.message);
  if (!isObject(inner.value)) {
    const kind = jsonKind(inner.value);
    return rejected("invalid_envelope", `SNS Message is ${kind}, expected an EventBridge event object`);
  }
  if (looksLikeSns(inner.value)) {
    return rejected(
      "invalid_sns_notification",
      "SNS Message is itself an SNS message; only one level of wrapping is accepted",
    );
  }
  return readEvent(inner.value, "sns");
}

function readEvent(value: Record<string, unknown>, envelope: "eventbridge" | "sns"): EnvelopeResult {
  const where = envelope === "sns" ? "SNS Message" : "message body";
  const source = value["source"];
  const detailType = value["detail-type"];
  if (typeof source !== "string" || typeof detailType !== "string") {
    return rejected(
      "invalid_envelope",
      `${where} is not an EventBridge event: "source" and "detail-type" must be strings`,
    );
  }
  if (source !== GUARDDUTY_SOURCE || detailType !== GUARDDUTY_FINDING_DETAIL_TYPE) {
    return {
      status: "ignored",
      reason: "not_guardduty_event",
      message: `EventBridge event from ${preview(source)} of type ${preview(detailType)} is not a GuardDuty finding`,
    };
  }
  const parsed = eventSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return rejected("invalid_envelope", `${formatPath("event", issue?.path ?? [])}: ${issue?.message ?? "invalid"}`);
  }
  return { status: "event", event: parsed.data, envelope };
}

/** SNS messages carry "Type"; EventBridge events carry "source" and "detail-type" instead. */
function looksLikeSns(value: Record<string, unknown>): boolean {
  return "Type" in value && !("source" in value) && !("detail-type" in value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function rejected(reason: RejectReason, message: string): EnvelopeResult {
  return { status: "rejected", reason, message };
}
