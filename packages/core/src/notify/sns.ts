import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { SNS_TOPIC_ARN } from "../findings/patterns.js";
import { DeliveryError, type Sender } from "./errors.js";
import type { NotificationEvent } from "./event.js";

/** A standard or FIFO SNS topic ARN, in any partition. */
export const TOPIC_ARN = SNS_TOPIC_ARN.regex;

export interface SnsSenderOptions {
  topicArn: string;
  /** For emulators only. */
  endpoint?: string | undefined;
  /** Tests: a client of their own. */
  client?: SNSClient;
}

export function snsSubject(event: NotificationEvent): string {
  // SNS: at most 100 printable ASCII characters, no line breaks.
  const subject = `[gdr] ${event.kind}: ${event.playbook} ${event.resourceKey} (${event.accountId})`;
  return subject.replace(/[^\x20-\x7e]/g, "?").slice(0, 100);
}

/** Publishes the event as JSON to an SNS topic, with its kind as a message attribute (for filters). */
export function createSnsSender(options: SnsSenderOptions): Sender {
  if (!TOPIC_ARN.test(options.topicArn)) throw new Error("SNS topic ARN must look like arn:aws:sns:us-east-1:123456789012:topic-name");
  const region = options.topicArn.split(":")[3] ?? "us-east-1";
  const fifo = options.topicArn.endsWith(".fifo");
  // The fan-out retries; the SDK's own retries would multiply its attempts.
  const client = options.client ?? new SNSClient({ region, maxAttempts: 1, ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
  return {
    channel: "sns",
    async send(event, signal) {
      try {
        await client.send(
          new PublishCommand({
            TopicArn: options.topicArn,
            Subject: snsSubject(event),
            Message: JSON.stringify(event),
            MessageAttributes: { kind: { DataType: "String", StringValue: event.kind } },
            // A finding without a remediation (exempt by policy) groups under its finding id.
            ...(fifo ? { MessageGroupId: event.remediationId ?? event.findingId, MessageDeduplicationId: `${event.remediationId ?? event.findingId}-${event.kind}` } : {}),
          }),
          { abortSignal: signal },
        );
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        const status = e.$metadata?.httpStatusCode;
        const throttled = /throttl/i.test(e.name ?? "");
        const retryable = status === undefined || status >= 500 || status === 429 || throttled;
        throw new DeliveryError(`${e.name ?? "Error"}${status ? ` (HTTP ${status})` : ""}`, retryable);
      }
    },
    close: () => {
      if (!options.client) client.destroy();
    },
  };
}
