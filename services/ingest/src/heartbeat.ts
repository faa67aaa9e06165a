import type { Logger } from "@gdr/core/log";
import type { ReceivedMessage } from "@gdr/core/intake/messages";
import type { SqsGateway } from "./sqs.js";

/**
 * While a batch is still being processed, keeps its messages hidden: every half visibility
 * timeout it pushes the timeout out again, so a slow Postgres does not make SQS hand the same
 * messages to another poller mid-batch.
 */
export function startHeartbeat(
  sqs: Pick<SqsGateway, "extendVisibility">,
  messages: readonly ReceivedMessage[],
  visibilitySeconds: number,
  logger: Logger,
): { stop(): void } {
  const timer = setInterval(() => {
    sqs.extendVisibility(messages, visibilitySeconds).then(
      (failed) => {
        if (failed.length > 0) logger.warn({ failed }, "could not extend visibility of some messages");
      },
      (err: unknown) => {
        logger.warn({ err }, "visibility extension failed");
      },
    );
  }, (visibilitySeconds * 1000) / 2);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
