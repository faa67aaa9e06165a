// AWS calls the runner makes outside a step: the target account's credentials (AssumeRole) and a
// plan's live reads (DescribeNetworkInterfaces, DescribeSecurityGroups, ...) while it freezes a plan
// for a person or a dry run. Their errors are classified as a step's are (errors.ts), so a denied
// call fails the remediation once instead of being retried by BullMQ, throttling slows the queue
// without spending an attempt, and an outage or a stopping worker postpones the job.
import type { RemediationJob } from "@gdr/core/queues/catalog";
import { ACTIONS } from "./actions.js";
import type { EngineDeps } from "./deps.js";
import { classifyStepError, unreachableOf } from "./errors.js";
import { FailedForGood, Postpone, SlowDown, Unavailable } from "./signals.js";
import { EscalateRemediation, SkipRemediation } from "./step.js";
import { THROTTLE_PAUSE_MS, type Attempt } from "./step-runner.js";
import type { LoadedRemediation } from "./store.js";

export interface OutsideStep {
  action: RemediationJob["action"];
  loaded: LoadedRemediation;
  attempt: Attempt;
  /** What the runner was doing, for the record: `credentials`, `plan`, `dry_run`. */
  doing: "credentials" | "plan" | "dry_run";
  /** The step whose plan (or dry run) was being read, if any. */
  step?: string;
  /**
   * A release asked from a contained remediation (its status, unchanged so far): a failure leaves
   * it on record as contained instead of failing it.
   */
  releaseFrom?: string | null;
  signal?: AbortSignal;
}

/** Runs `fn`; its errors leave as the engine's signals (see the file comment). */
export async function outsideStep<T>(at: OutsideStep, deps: EngineDeps, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw await settle(err, at, deps);
  }
}

async function settle(err: unknown, at: OutsideStep, deps: EngineDeps): Promise<unknown> {
  if (err instanceof Postpone || err instanceof FailedForGood || err instanceof Unavailable || err instanceof SlowDown) return err;
  // A step's act run to derive a plan found it must not go on: the runner ends the remediation.
  if (err instanceof EscalateRemediation || err instanceof SkipRemediation) return err;
  const c = classifyStepError(err, at.signal, deps.signal);
  const { id, playbook } = at.loaded.ref;
  if (c.kind === "busy") return new Postpone(deps.postponeMs, "lock_busy");
  deps.metrics.failures.inc({ playbook, error: c.label });
  if (c.kind === "unavailable") return new Unavailable(unreachableOf(err, at.signal, deps.signal) ?? "postgres", err);
  // As at the step boundary: a retryable error on the job's last attempt is final too.
  const final = c.kind === "fatal" || (c.kind === "retryable" && at.attempt.attemptsMade + 1 >= at.attempt.attempts);
  if (!final) return c.kind === "throttled" ? new SlowDown(THROTTLE_PAUSE_MS) : err;

  const what = `${at.doing}${at.step ? ` (${at.step})` : ""}: ${c.code}: ${c.message}`.slice(0, 1_000);
  await deps.store.audit(id, "worker", "remediation.setup_failed", { doing: at.doing, action: at.action, ...(at.step ? { step: at.step } : {}), errorClass: c.kind, code: c.code, message: c.message.slice(0, 500) });
  if (ACTIONS[at.action].undoesContainment && at.releaseFrom) {
    // Nothing of the release has run: the resource is as contained as before, and the record
    // says so (status unchanged). The person who asked is told through the failure's notice.
    deps.logger.error({ remediationId: id, code: c.code }, "release not planned: the resource stays contained");
    return new FailedForGood(`release not planned: ${what}; the resource stays contained`);
  }
  await deps.store.setStatus(id, "failed", { error: what });
  return new FailedForGood(`${at.doing} failed: ${c.code}`);
}
