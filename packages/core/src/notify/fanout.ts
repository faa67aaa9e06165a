import { Counter, type Registry } from "prom-client";
import type { Logger } from "../log.js";
import { DeliveryError, type Sender } from "./errors.js";
import type { NotificationEvent, Notifier } from "./event.js";

export interface RetryPolicy {
  /** Attempts per channel and event, the first one included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 };

export interface FanOutNotifier extends Notifier {
  /**
   * Waits for deliveries in flight, at most `timeoutMs`; past it, abandons them (logged and
   * counted). Later `notify` calls are dropped. Idempotent.
   */
  drain(timeoutMs?: number): Promise<void>;
  /** Deliveries not finished yet (tests). */
  inFlight(): number;
}

export interface FanOutOptions {
  senders: readonly Sender[];
  logger: Logger;
  registry: Registry;
  retry?: Partial<RetryPolicy>;
}

type Outcome = "delivered" | "retried" | "failed" | "dropped";

function notificationsCounter(registry: Registry): Counter<"channel" | "outcome"> {
  const name = "gdr_notifications_total";
  const existing = registry.getSingleMetric(name);
  // A second notifier on the same registry shares the counter (registering twice throws).
  if (existing instanceof Counter) return existing;
  return new Counter({
    name,
    help: "Notification delivery attempts by channel and outcome (delivered, retried, failed, dropped).",
    labelNames: ["channel", "outcome"],
    registers: [registry],
  });
}

/** Full jitter: a random wait up to the exponential bound, so retries of many events spread out. */
export function backoffMs(retry: RetryPolicy, attempt: number, atLeastMs = 0): number {
  const bound = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  return Math.max(atLeastMs, Math.floor(Math.random() * bound));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Delivers every event to every channel in the background, each with its own bounded retries.
 * Nothing here throws into the caller: failures end as a log line and a counted outcome.
 */
export function createFanOutNotifier(options: FanOutOptions): FanOutNotifier {
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const counter = notificationsCounter(options.registry);
  const logger = options.logger;
  const pending = new Set<Promise<void>>();
  const abort = new AbortController();
  let drained: Promise<void> | undefined;

  const count = (channel: string, outcome: Outcome): void => {
    counter.inc({ channel, outcome });
  };

  async function deliver(sender: Sender, event: NotificationEvent): Promise<void> {
    const about = { channel: sender.channel, kind: event.kind, remediationId: event.remediationId };
    for (let attempt = 1; ; attempt++) {
      try {
        await sender.send(event, abort.signal);
        count(sender.channel, "delivered");
        if (attempt > 1) logger.info({ ...about, attempt }, "notification delivered after retries");
        return;
      } catch (err) {
        const safe = err instanceof DeliveryError ? err : new DeliveryError(err instanceof Error ? err.name : "unknown error", true);
        const last = !safe.retryable || attempt >= retry.attempts || abort.signal.aborted;
        if (last) {
          count(sender.channel, abort.signal.aborted ? "dropped" : "failed");
          logger.error({ ...about, attempt, error: safe.message }, "notification not delivered; giving up");
          return;
        }
        count(sender.channel, "retried");
        const delayMs = backoffMs(retry, attempt, safe.retryAfterMs);
        logger.warn({ ...about, attempt, error: safe.message, delayMs }, "notification attempt failed; will retry");
        await sleep(delayMs, abort.signal);
      }
    }
  }

  function track(work: Promise<void>): void {
    const p = work.catch((err: unknown) => {
      // deliver() handles its errors; this is the belt to its braces.
      logger.error({ error: err instanceof Error ? err.name : "unknown" }, "notification delivery crashed");
    });
    pending.add(p);
    void p.finally(() => {
      pending.delete(p);
    });
  }

  return {
    notify(event) {
      try {
        if (drained) {
          for (const s of options.senders) count(s.channel, "dropped");
          logger.warn({ kind: event.kind, remediationId: event.remediationId }, "notifier drained; notification dropped");
          return;
        }
        for (const sender of options.senders) track(deliver(sender, event));
      } catch (err) {
        logger.error({ error: err instanceof Error ? err.name : "unknown" }, "notification could not be queued");
      }
    },
    inFlight: () => pending.size,
    drain(timeoutMs = 10_000) {
      drained ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => {
            resolve("timeout");
          }, timeoutMs);
        });
        const all = Promise.allSettled([...pending]).then(() => "done" as const);
        if ((await Promise.race([all, deadline])) === "timeout") {
          logger.warn({ inFlight: pending.size, timeoutMs }, "notifications still in flight at the deadline; abandoning them");
          abort.abort(new Error("notifier draining"));
          await all;
        }
        clearTimeout(timer);
        for (const s of options.senders) s.close?.();
      })();
      return drained;
    },
  };
}
