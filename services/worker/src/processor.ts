import { DelayedError, type Job, UnrecoverableError, Worker } from "bullmq";
import { remediationJobSchema } from "@gdr/core/queues/catalog";
import type { EngineDeps } from "./engine/deps.js";
import { runRemediation, type RunOutcome } from "./engine/runner.js";
import { FailedForGood, Postpone, SlowDown } from "./engine/signals.js";

/**
 * The BullMQ processor: re-validates the payload (Redis is transport, not a trusted record),
 * runs the remediation with a job-scoped logger, and maps the engine's signals onto BullMQ:
 * postpone → delayed without using an attempt; AWS throttling → the whole queue slowed down;
 * failed for good → UnrecoverableError; anything else → retried with exponential backoff.
 */
export function createProcessor(deps: EngineDeps, rateLimit: (delayMs: number) => Promise<void>) {
  return async function process(job: Job, token?: string): Promise<RunOutcome> {
    const parsed = remediationJobSchema.safeParse(job.data);
    if (!parsed.success) {
      deps.metrics.jobs.inc({ playbook: job.queueName, outcome: "invalid_payload" });
      throw new UnrecoverableError(`invalid job payload: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    }
    const payload = parsed.data;
    const logger = deps.logger.child({
      queue: job.queueName,
      jobId: job.id,
      findingId: payload.findingId,
      resource: payload.resourceKey,
      attempt: job.attemptsMade + 1,
    });
    try {
      const outcome = await runRemediation(payload, { jobId: job.id ?? "", attemptsMade: job.attemptsMade, attempts: job.opts.attempts ?? 1 }, { ...deps, logger });
      deps.metrics.jobs.inc({ playbook: payload.playbook, outcome });
      logger.info({ outcome }, "remediation job done");
      return outcome;
    } catch (err) {
      if (err instanceof Postpone) {
        logger.info({ why: err.why, delayMs: err.delayMs }, "remediation postponed");
        await job.moveToDelayed(Date.now() + err.delayMs, token);
        throw new DelayedError();
      }
      if (err instanceof SlowDown) {
        logger.warn({ delayMs: err.delayMs }, "AWS throttled: slowing the queue");
        await rateLimit(err.delayMs);
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
