import type { Logger } from "@gdr/core/log";
import { backoffMs, sleep } from "./backoff.js";
import type { BatchProcessor } from "./batch.js";
import { classifyFailure } from "./failure.js";
import { startHeartbeat } from "./heartbeat.js";
import type { IngestMetrics } from "./metrics.js";
import type { SqsGateway } from "./sqs.js";

export interface PollerDeps {
  sqs: SqsGateway;
  processBatch: BatchProcessor;
  /** Resolves when Postgres and Redis answer; rejects otherwise. Gate for receiving after a failure. */
  checkDependencies(): Promise<void>;
  batchSize: number;
  waitTimeSeconds: number;
  visibilityTimeout: number;
  logger: Logger;
  metrics: IngestMetrics;
}

/**
 * One long-poll loop. After a failure it backs off and does not receive again until Postgres and
 * Redis answer: receiving while they are down would only burn the messages' receive counts and
 * push good findings into the dead-letter queue. The signal stops polling; a batch already
 * received is always finished.
 */
export async function runPoller(deps: PollerDeps, signal: AbortSignal): Promise<void> {
  // A function, not `signal.aborted` inline: the flag changes across awaits, which narrowing misses.
  const stopping = (): boolean => signal.aborted;
  let failures = 0;
  while (!stopping()) {
    if (failures > 0) {
      await sleep(backoffMs(failures), signal);
      if (stopping()) break;
      try {
        await deps.checkDependencies();
      } catch (err) {
        failures += 1;
        deps.logger.warn({ err: brief(err), failures }, "dependencies still unavailable; not receiving");
        continue;
      }
      deps.logger.info({ failures }, "dependencies answer again; resuming");
    }

    let messages;
    try {
      messages = await deps.sqs.receive({
        maxMessages: deps.batchSize,
        waitTimeSeconds: deps.waitTimeSeconds,
        visibilityTimeout: deps.visibilityTimeout,
        signal,
      });
    } catch (err) {
      if (stopping()) break;
      failures += 1;
      deps.metrics.batchFailures.inc({ kind: "sqs" });
      deps.logger.error({ err: brief(err), failures }, "SQS receive failed; backing off");
      continue;
    }
    if (messages.length === 0) continue;

    deps.metrics.received.inc(messages.length);
    const end = deps.metrics.batchSeconds.startTimer();
    const heartbeat = startHeartbeat(deps.sqs, messages, deps.visibilityTimeout, deps.logger);
    try {
      await deps.processBatch(messages);
      end();
      failures = 0;
    } catch (err) {
      failures += 1;
      const kind = classifyFailure(err);
      deps.metrics.batchFailures.inc({ kind });
      deps.logger.error(
        { err: brief(err), kind, failures, messages: messages.map((m) => m.messageId) },
        "batch not completed; its messages stay on the queue and return after their visibility timeout",
      );
    } finally {
      heartbeat.stop();
    }
  }
}

function brief(err: unknown): unknown {
  return err instanceof Error ? { name: err.name, message: err.message, code: (err as { code?: unknown }).code } : err;
}
