// Notifications about remediations: one Notifier in front of the configured channels (Slack
// incoming webhook, SNS topic), delivering in the background with bounded retries.
import type { Registry } from "prom-client";
import type { Logger } from "../log.js";
import type { Sender } from "./errors.js";
import { createFanOutNotifier, type FanOutNotifier, type RetryPolicy } from "./fanout.js";
import { createSlackSender } from "./slack.js";
import { createSnsSender } from "./sns.js";

export { DeliveryError, type Sender } from "./errors.js";
export {
  findingEvent,
  remediationEvent,
  remediationLink,
  type NotificationEvent,
  type NotificationKind,
  type NotifiedFinding,
  type NotifiedRemediation,
  type Notifier,
} from "./event.js";
export { backoffMs, createFanOutNotifier, DEFAULT_RETRY, type FanOutNotifier, type RetryPolicy } from "./fanout.js";
export { createSlackSender, slackMessage, webhookUrlProblem } from "./slack.js";
export { createSnsSender, snsSubject, TOPIC_ARN } from "./sns.js";

export interface NotifierConfig {
  slackWebhookUrl?: string | undefined;
  snsTopicArn?: string | undefined;
  /** For emulators only. */
  awsEndpoint?: string | undefined;
}

/** The notifier for whichever channels are configured; with none, events go nowhere. */
export function createNotifier(config: NotifierConfig, deps: { logger: Logger; registry: Registry; retry?: Partial<RetryPolicy> }): FanOutNotifier {
  const senders: Sender[] = [];
  if (config.slackWebhookUrl) senders.push(createSlackSender({ webhookUrl: config.slackWebhookUrl }));
  if (config.snsTopicArn) senders.push(createSnsSender({ topicArn: config.snsTopicArn, endpoint: config.awsEndpoint }));
  deps.logger.info({ channels: senders.map((s) => s.channel) }, "notification channels");
  return createFanOutNotifier({ senders, logger: deps.logger, registry: deps.registry, ...(deps.retry ? { retry: deps.retry } : {}) });
}
