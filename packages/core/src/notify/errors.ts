import type { NotificationEvent } from "./event.js";

/**
 * A failed delivery attempt. `retryable` says whether trying again may help (network errors,
 * throttling, 5xx); the message is safe to log: senders build it without secrets.
 */
export class DeliveryError extends Error {
  override readonly name = "DeliveryError";
  constructor(
    message: string,
    readonly retryable: boolean,
    /** The receiver asked for this much patience (Retry-After). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** One channel: Slack, SNS. `send` resolves once the receiver accepted the message. */
export interface Sender {
  readonly channel: string;
  send(event: NotificationEvent, signal: AbortSignal): Promise<void>;
  close?(): void;
}
