import { DelayedError, type Job, UnrecoverableError, Worker } from "bullmq";
import type { QueueDefinition } from "@gdr/core/queues/catalog";
import type { EngineDeps } from "./engine/deps.js";
import { unreachableOf } from "./engine/errors.js";
import { runRemediation, type RunOutcome } from "./engine/runner.js";
import { FailedForGood, Postpone, SlowDown, Unavailable } from "./engine/signals.js";
import { outageDelayMs, outagesOf, withOutages } from "./outage-backoff.js";

export interface ProcessorOptions {
  /** The queue's entry in core's job catalog: its payload schema is what every job is checked with. */
  definition: QueueDefinition;
  /** Slows the whole queue down (BullMQ rateLimit) after AWS throttled a call. */
  rateLimit: (delayMs: number) => Promise<void>;
  /** Backoff for a job postponed because Postgres or Redis is away: first delay and cap. */
  outageBackoff: { baseMs: number; maxMs: number };
}

/**
 * The BullMQ processor: re-validates the payload (Redis is transport, not a trusted record),
 * runs the remediation with a job-scoped logger, and maps the engine's signals onto BullMQ:
 * postpone → delayed without using an attempt; our infrastructure away (Postgres or Redis, in a
 * step, in the engine's bookkeeping or in its failure path) → delayed with exponential backoff and
 * jitter, without using an attempt; AWS throttling → the whole queue slowed down; failed for good
 * → UnrecoverableError; anything else → retried with exponential backoff.
 */
export function createProcessor(deps: EngineDeps, options: ProcessorOptions) {
  return async function process(job: Job, token?: string): Promise<RunOutcome> {
    const parsed = options.definition.payload.safeParse(job.data);
    if (!parsed.success) {
      deps.metrics.jobs.inc({ playbook: job.queueName, outcome: "invalid_payload" });
      throw new UnrecoverableError(`invalid job payload: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    }
    const payload = parsed.data;
    if (payload.playbook !== options.definition.name) {
      // A job for one playbook on another's queue would run that playbook under this queue's limits.
      deps.metrics.jobs.inc({ playbook: job.queueName, outcome: "invalid_payload" });
      throw new UnrecoverableError(`invalid job payload: playbook ${payload.playbook} on queue ${options.definition.name}`);
    }
    const logger = deps.logger.child({
      queue: job.queueName,
      jobId: job.id,
      findingId: payload.findingId,
      resource: payload.resourceKey,
      attempt: job.attemptsMade + 1,
    });
    /** Moves the job to delayed; past this the job is BullMQ's to hand back, never a failure. */
    const postpone = async (delayMs: number): Promise<never> => {
      try {
        await job.moveToDelayed(Date.now() + delayMs, token);
      } catch (err) {
        // Redis could not take the move (or our lock on the job lapsed meanwhile). The job stays
        // active without a lock renewal: BullMQ's stalled check hands it back to waiting (up to
        // maxStalledCount times, then fails it, and the reconciler re-enqueues it from Postgres).
        // Throwing anything but DelayedError here would have BullMQ fail the attempt instead.
        logger.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, "could not postpone the job; BullMQ will find it stalled");
      }
      throw new DelayedError();
    };
    try {
      const outcome = await runRemediation(payload, { jobId: job.id ?? "", attemptsMade: job.attemptsMade, attempts: job.opts.attempts ?? 1 }, { ...deps, logger });
      deps.metrics.jobs.inc({ playbook: payload.playbook, outcome });
      logger.info({ outcome }, "remediation job done");
      return outcome;
    } catch (err) {
      if (err instanceof Postpone) {
        logger.info({ why: err.why, delayMs: err.delayMs, ...(err.playbook ? { playbook: err.playbook } : {}) }, "remediation postponed");
        return await postpone(err.delayMs);
      }
      // From a step (classified there) or from the engine's own reads and writes (not classified).
      const away = err instanceof Unavailable ? err.what : unreachableOf(err);
      if (away) {
        const outages = outagesOf(job.data) + 1;
        const delayMs = outageDelayMs(outages, options.outageBackoff);
        deps.metrics.jobs.inc({ playbook: payload.playbook, outcome: "postponed_outage" });
        logger.warn({ why: "infrastructure", what: away, outages, delayMs, err: { message: err instanceof Error ? err.message : String(err) } }, "remediation postponed");
        // Counted on the job so the backoff grows across workers; best effort (Redis may be the one away).
        await job.updateData(withOutages(job.data, outages)).catch(() => undefined);
        return await postpone(delayMs);
      }
      if (err instanceof SlowDown) {
        logger.warn({ delayMs: err.delayMs }, "AWS throttled: slowing the queue");
        await options.rateLimit(err.delayMs);
        throw Worker.RateLimitError();
      }
      if (err instanceof FailedForGood) {
        deps.metrics.jobs.inc({ playbook: payload.playbook, outcome: "failed" });
        logger.error({ err: err.message }, "remediation failed");
        throw new UnrecoverableError(err.message);
      }
      logger.warn({ err: err instanceof Error ? { name: err.name, message: err.message } : err }, "remediation step will be retried");
      throw err;
    }
  };
}
