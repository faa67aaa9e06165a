// The findings queue on moto, as the services see it: sending findings to it and reading its
// depth from moto (never through ingest).
import { GetQueueAttributesCommand, SendMessageBatchCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { AwsProxy } from "../aws-proxy.js";
import { waitUntil } from "../wait.js";

export { createFindingsQueue } from "../../../scripts/demo/queue.js";

export async function sendBody(sqs: SQSClient, queueUrl: string, body: string): Promise<string> {
  const out = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  if (!out.MessageId) throw new Error("SendMessage returned no MessageId");
  return out.MessageId;
}

/** Sends each body as its own message, ten per SendMessageBatch; returns the message ids in order. */
export async function sendBodies(sqs: SQSClient, queueUrl: string, bodies: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < bodies.length; start += 10) {
    const chunk = bodies.slice(start, start + 10);
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((body, i) => ({ Id: String(i), MessageBody: body })),
      }),
    );
    if ((out.Failed ?? []).length > 0) throw new Error(`SendMessageBatch failed: ${JSON.stringify(out.Failed)}`);
    const byEntry = new Map((out.Successful ?? []).map((s) => [s.Id, s.MessageId]));
    chunk.forEach((_body, i) => {
      const id = byEntry.get(String(i));
      if (!id) throw new Error(`SendMessageBatch returned no MessageId for entry ${i}`);
      ids.push(id);
    });
  }
  return ids;
}

/**
 * Sends the bodies while the ReceiveMessage calls of all `pollers` are parked at `proxy`, then lets
 * them go: every message is on the queue when the first receive runs, so the pollers take all of
 * them at once. (A long poll that is woken by the first message of a SendMessageBatch can take
 * just part of it; a test that then stalls those pollers would never see the rest received.)
 */
export async function sendWhileReceivesHeld(
  sqs: SQSClient,
  queueUrl: string,
  proxy: AwsProxy,
  pollers: number,
  bodies: readonly string[],
): Promise<string[]> {
  const hold = proxy.hold("ReceiveMessage");
  try {
    await waitUntil(() => hold.held() >= pollers, { attempts: 100, intervalMs: 50, what: `the receives of ${pollers} poller(s) to be held` });
    return await sendBodies(sqs, queueUrl, bodies);
  } finally {
    hold.release();
  }
}

export interface QueueDepth {
  visible: number;
  inFlight: number;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(out.Attributes?.["ApproximateNumberOfMessages"] ?? "NaN"),
    inFlight: Number(out.Attributes?.["ApproximateNumberOfMessagesNotVisible"] ?? "NaN"),
  };
}

/** Waits (bounded) until the queue holds nothing, visible or in flight: ingest is done with it. */
export async function waitForEmptyQueue(
  sqs: SQSClient,
  queueUrl: string,
  { what = "the findings queue to be empty", attempts = 150, intervalMs = 200 }: { what?: string; attempts?: number; intervalMs?: number } = {},
): Promise<void> {
  await waitUntil(
    async () => {
      const depth = await queueDepth(sqs, queueUrl);
      return depth.visible === 0 && depth.inFlight === 0;
    },
    { attempts, intervalMs, what },
  );
}
