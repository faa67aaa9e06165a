import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";

/** Fills the queue with `bodies`, ten to a SendMessageBatch call, `parallel` calls at a time. */
export async function fillQueue(sqs: SQSClient, queueUrl: string, bodies: readonly string[], parallel = 8): Promise<void> {
  const batches: string[][] = [];
  for (let i = 0; i < bodies.length; i += 10) batches.push(bodies.slice(i, i + 10));
  let next = 0;
  async function lane(): Promise<void> {
    for (let b = next++; b < batches.length; b = next++) {
      const batch = batches[b] ?? [];
      const out = await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((body, i) => ({ Id: String(i), MessageBody: body })) }),
      );
      if ((out.Failed ?? []).length > 0) throw new Error(`SendMessageBatch failed for ${out.Failed?.length} entries`);
    }
  }
  await Promise.all(Array.from({ length: parallel }, lane));
}

/**
 * The floor for any SQS consumer: `pollers` loops doing nothing but ReceiveMessage (10, long
 * poll) and DeleteMessageBatch until `total` messages are gone. Returns the elapsed milliseconds.
 */
export async function bareReceiveDelete(sqs: SQSClient, queueUrl: string, total: number, pollers: number): Promise<number> {
  let deleted = 0;
  const started = performance.now();
  async function lane(): Promise<void> {
    while (deleted < total) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }));
      const messages = out.Messages ?? [];
      if (messages.length === 0) continue;
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
        }),
      );
      deleted += messages.length;
    }
  }
  await Promise.all(Array.from({ length: pollers }, lane));
  return performance.now() - started;
}
