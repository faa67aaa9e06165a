import type { PrismaClient } from "@gdr/core/db/client";
import { parseMessageBody, type ParseOptions, type ParseResult } from "@gdr/core/findings/index";
import type { Logger } from "@gdr/core/log";
import type { Notifier } from "@gdr/core/notify/index";
import { stage } from "./failure.js";
import type { IngestMetrics } from "./metrics.js";
import type { MessageOutcome, ReceivedMessage } from "@gdr/core/intake/messages";
import { sendNotices } from "@gdr/core/intake/notices";
import type { OutboxRelay } from "./outbox.js";
import { recordBatch, type RecordDeps } from "@gdr/core/intake/record";
import type { SqsGateway } from "./sqs.js";

export interface BatchDeps extends RecordDeps {
  prisma: PrismaClient;
  sqs: Pick<SqsGateway, "deleteMessages">;
  relay: Pick<OutboxRelay, "dispatchForFindings">;
  parseOptions: ParseOptions;
  logger: Logger;
  metrics: IngestMetrics;
  /** Tells people about exempt findings and escalated version conflicts. */
  notifier: Notifier;
  /** The API's base URL as people reach it, for links in notifications. */
  publicUrl: string;
}

export type BatchProcessor = (messages: readonly ReceivedMessage[]) => Promise<MessageOutcome[]>;

/**
 * The durability order of DESIGN.md §2: (1) one transaction records every message of the batch,
 * (2) the remediations it created are enqueued, (3) only then are the messages deleted from SQS.
 * Any failure before (3) throws, and the messages come back when their visibility timeout ends;
 * a redelivered message is recognised by its receipt and only finishes steps (2) and (3).
 */
export function createBatchProcessor(deps: BatchDeps): BatchProcessor {
  return async function processBatch(messages) {
    const parsed = messages.map((message) => ({ message, parsed: parseMessageBody(message.body, deps.parseOptions) }));
    // A fixed order of finding ids across batches keeps concurrent transactions from locking the
    // same findings in opposite orders (deadlock). The sort is stable: two versions of one finding
    // in a batch keep their arrival order.
    parsed.sort((a, b) => sortKey(a.parsed).localeCompare(sortKey(b.parsed)));

    const outcomes = await stage("record", () =>
      deps.prisma.$transaction((tx) => recordBatch(tx, parsed, deps), { timeout: 30_000, maxWait: 10_000 }),
      deps.metrics.stageSeconds,
    );

    // Told as soon as they are durable, before the enqueue: a failed enqueue brings the messages
    // back as redeliveries, which carry no notices, so this is the one moment to tell people.
    sendNotices(deps.notifier, deps.publicUrl, outcomes);

    // Counted as soon as they are durable: a message whose enqueue or delete fails now is not
    // counted again when its redelivery finishes the job.
    for (const o of outcomes) {
      if (o.redelivered) continue;
      deps.metrics.outcomes.inc({ outcome: o.outcome, reason: o.reason });
      deps.metrics.remediationsCreated.inc(o.remediationsCreated);
    }

    const findingIds = [...new Set(outcomes.flatMap((o) => (o.findingId ? [o.findingId] : [])))];
    await stage("enqueue", () => deps.relay.dispatchForFindings(findingIds), deps.metrics.stageSeconds);

    const failed = await stage("delete", () => deps.sqs.deleteMessages(messages), deps.metrics.stageSeconds);
    if (failed.length > 0) {
      deps.metrics.deleteFailures.inc(failed.length);
      deps.logger.warn({ failed }, "SQS did not delete some messages; they will return and be recognised as redeliveries");
    }

    for (const o of outcomes) {
      const level = o.outcome === "rejected" ? "warn" : "info";
      deps.logger[level](
        { messageId: o.messageId, outcome: o.outcome, reason: o.reason, findingId: o.findingId, redelivered: o.redelivered },
        "message recorded",
      );
    }
    return outcomes;
  };
}

function sortKey(result: ParseResult): string {
  return result.status === "finding" ? result.finding.id : "";
}
