import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { ReceivedMessage } from "@gdr/core/intake/messages";

export interface SqsGateway {
  receive(options: { maxMessages: number; waitTimeSeconds: number; visibilityTimeout: number; signal: AbortSignal }): Promise<ReceivedMessage[]>;
  /** Deletes the messages; returns the ids SQS refused to delete. */
  deleteMessages(messages: readonly ReceivedMessage[]): Promise<string[]>;
  /** Keeps the messages hidden for `seconds` more; returns the ids SQS refused. */
  extendVisibility(messages: readonly ReceivedMessage[], seconds: number): Promise<string[]>;
  /** Throws when the queue cannot be reached. */
  check(signal?: AbortSignal): Promise<void>;
}

/** The few SQS calls ingest makes, over the SDK client, with batch entry ids mapped back. */
export function createSqsGateway(client: SQSClient, queueUrl: string): SqsGateway {
  return {
    async receive({ maxMessages, waitTimeSeconds, visibilityTimeout, signal }) {
      const out = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: maxMessages,
          WaitTimeSeconds: waitTimeSeconds,
          VisibilityTimeout: visibilityTimeout,
          MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        }),
        { abortSignal: signal },
      );
      return (out.Messages ?? []).flatMap((m) =>
        m.MessageId && m.ReceiptHandle
          ? [
              {
                messageId: m.MessageId,
                receiptHandle: m.ReceiptHandle,
                body: m.Body ?? "",
                receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? "1"),
              },
            ]
          : [],
      );
    },

    async deleteMessages(messages) {
      if (messages.length === 0) return [];
      const out = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle })),
        }),
      );
      return (out.Failed ?? []).map((f) => messages[Number(f.Id)]?.messageId ?? `entry ${f.Id ?? "?"}`);
    },

    async extendVisibility(messages, seconds) {
      if (messages.length === 0) return [];
      const out = await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle, VisibilityTimeout: seconds })),
        }),
      );
      return (out.Failed ?? []).map((f) => messages[Number(f.Id)]?.messageId ?? `entry ${f.Id ?? "?"}`);
    },

    async check(signal) {
      await client.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
        signal ? { abortSignal: signal } : {},
      );
    },
  };
}
