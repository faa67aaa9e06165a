// How a finding travels: the EventBridge event GuardDuty emits, and SNS's wrapping of it.
import { randomBytes } from "node:crypto";
import { DEFAULT_ACCOUNT_ID, DEFAULT_REGION, hexId, uuid, type JsonObject, type JsonValue } from "./base.js";

export interface EventOptions {
  /** The account whose event bus received the event; default the finding's accountId. */
  account?: string;
  region?: string;
  source?: string;
  detailType?: string;
  seed?: string;
}

/** The EventBridge event GuardDuty emits for a finding. */
export function eventBridgeEvent(detail: JsonObject, o: EventOptions = {}): JsonObject {
  const str = (v: JsonValue | undefined, fallback: string) => (typeof v === "string" ? v : fallback);
  return {
    version: "0",
    id: uuid(o.seed, "event"),
    "detail-type": o.detailType ?? "GuardDuty Finding",
    source: o.source ?? "aws.guardduty",
    account: o.account ?? str(detail["accountId"], DEFAULT_ACCOUNT_ID),
    time: str(detail["updatedAt"], new Date().toISOString()),
    region: o.region ?? str(detail["region"], DEFAULT_REGION),
    resources: [],
    detail,
  };
}

function topicArn(region: string, account: string): string {
  return `arn:aws:sns:${region}:${account}:guardduty-findings`;
}

function snsCommon(region: string, account: string, seed?: string): JsonObject {
  return {
    MessageId: uuid(seed, "sns-message"),
    TopicArn: topicArn(region, account),
    Timestamp: new Date().toISOString(),
    SignatureVersion: "1",
    Signature: randomBytes(64).toString("base64"),
    SigningCertURL: `https://sns.${region}.amazonaws.com/SimpleNotificationService-${hexId(32, seed, "cert")}.pem`,
  };
}

/** `event` as an SNS notification delivers it to SQS (raw message delivery off). */
export function snsWrap(event: JsonObject, o: { region?: string; account?: string; seed?: string } = {}): JsonObject {
  const region = o.region ?? DEFAULT_REGION;
  const account = o.account ?? DEFAULT_ACCOUNT_ID;
  const shared = snsCommon(region, account, o.seed);
  return {
    Type: "Notification",
    ...shared,
    Message: JSON.stringify(event),
    UnsubscribeURL:
      `https://sns.${region}.amazonaws.com/?Action=Unsubscribe` +
      `&SubscriptionArn=${topicArn(region, account)}:${uuid(o.seed, "sub")}`,
  };
}

/** The message SNS sends when the queue is subscribed to a topic. */
export function snsSubscriptionConfirmation(o: { region?: string; account?: string } = {}): JsonObject {
  const region = o.region ?? DEFAULT_REGION;
  const account = o.account ?? DEFAULT_ACCOUNT_ID;
  const shared = snsCommon(region, account);
  return {
    Type: "SubscriptionConfirmation",
    ...shared,
    Token: hexId(128),
    Message:
      `You have chosen to subscribe to the topic ${topicArn(region, account)}.\n` +
      "To confirm the subscription, visit the SubscribeURL included in this message.",
    SubscribeURL: `https://sns.${region}.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topicArn(region, account)}&Token=x`,
  };
}
