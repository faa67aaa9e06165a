import { contains, escalationOutput } from "./containment.js";
import { readOnlyView } from "./calls.js";
import type { EngineDeps } from "./deps.js";
import { classifyStepError, type ClassifiedStepError, unreachableOf } from "./errors.js";
import { FailedForGood, Postpone, SlowDown, Unavailable } from "./signals.js";
import { EscalateRemediation, isNotAvailable, type Json, OutputShapeError, SkipRemediation, type Step, type StepContext } from "./step.js";
import type { FinishedStatus, LoadedRemediation } from "./store.js";

export interface Attempt {
  /** The BullMQ job id (a hand-over job's id is derived from it). */
  jobId: string;
  /** 0-based: how many attempts of this job BullMQ already made. */
  attemptsMade: number;
  attempts: number;
}

/**
 * How a step ended: done (with the status recorded), the remediation skipped (the resource is
 * gone), or escalated (the step found something the playbook cannot safely act on; the step is
 * recorded with what it found, and the caller ends the remediation, see escalate.ts).
 */
export type StepOutcome = { kind: "done"; status: FinishedStatus; note?: string } | { kind: "skipped_remediation" } | { kind: "escalated"; reason: string; step?: string };

export interface StepOptions {
  /**
   * The step is the last of the playbook's containment steps not yet done: finishing it with an
   * effect records the remediation contained (in the same transaction) and observes time-to-contain.
   */
  completesContainment?: boolean;
}

/** The outcome label of gdr_worker_step_duration_seconds: a fixed set. */
export type StepOutcomeLabel = "succeeded" | "already_done" | "verified" | "unavailable" | "postponed" | "skipped" | "escalated" | "failed" | "retry";

/** How long the queue slows down after AWS throttled a call. */
export const THROTTLE_PAUSE_MS = 2_000;

/**
 * Runs one step: check → act → verify, with its status, output and request ids written to
 * Postgres before the next step starts. A step whose effect is already there is recorded
 * "skipped: already done" and changes nothing.
 */
export async function runStep(
  step: Step,
  order: number,
  loaded: LoadedRemediation,
  given: StepContext & { requestIds: string[] },
  outputs: Map<string, Json>,
  attempt: Attempt,
  deps: EngineDeps,
  options: StepOptions = {},
): Promise<StepOutcome> {
  const { id, playbook } = loaded.ref;
  await deps.store.stepStarted(id, step.name, order);
  // A read-only step runs before any approval (and in dry runs): it gets no way to change anything.
  const ctx = step.readOnly === true ? readOnlyView(given, step.name) : given;
  ctx.requestIds.length = 0;
  const timer = deps.metrics.stepSeconds.startTimer({ playbook, step: step.name });
  const end = (labels: { outcome: StepOutcomeLabel }): void => {
    timer(labels);
  };
  /** Records the step finished; the last containment step with an effect contains the remediation. */
  const finish = async (status: FinishedStatus, output: Json, extra: { preState?: Json; note?: string } = {}): Promise<StepOutcome> => {
    const contained = options.completesContainment === true && contains(status);
    await deps.store.stepFinished(id, step.name, { status, output, ...extra, awsRequestIds: [...ctx.requestIds], actor: "worker", ...(contained ? { contains: true } : {}) });
    outputs.set(step.name, output);
    if (contained) {
      deps.metrics.containedSeconds.observe({ playbook, since: "finding_created" }, (Date.now() - loaded.findingCreatedAt.getTime()) / 1000);
      deps.metrics.containedSeconds.observe({ playbook, since: "ingested" }, (Date.now() - loaded.createdAt.getTime()) / 1000);
    }
    return { kind: "done", status, ...(extra.note === undefined ? {} : { note: extra.note }) };
  };
  try {
    const preState = step.preState ? await step.preState(ctx) : undefined;
    const checked = await step.check(ctx);
    if (checked.done) {
      const output = validOutput(step, checked.output);
      // A checking step that finds everything in place has verified it; any other step's effect
      // was already there (a re-run after a crash) and it changed nothing.
      const status = step.checkOnly === true ? "verified" : "skipped";
      end({ outcome: status === "verified" ? "verified" : "already_done" });
      return await finish(status, output, { note: status === "verified" ? "verified" : (checked.note ?? "already done") });
    }
    const acted = await step.act(ctx, checked.state);
    if (isNotAvailable(acted)) {
      // Said as it is: the step could not do its work, and the playbook carries on without it.
      const output = validOutput(step, acted.output);
      end({ outcome: "unavailable" });
      return await finish("unavailable", output, { note: acted.reason });
    }
    const output = validOutput(step, acted);
    await step.verify(ctx, output);
    const status = step.checkOnly === true ? "verified" : "succeeded";
    end({ outcome: status });
    return await finish(status, output, preState !== undefined ? { preState } : {});
  } catch (err) {
    if (err instanceof Postpone) {
      end({ outcome: "postponed" });
      throw err;
    }
    if (err instanceof SkipRemediation) {
      end({ outcome: "skipped" });
      await deps.store.stepFinished(id, step.name, {
        status: "skipped",
        output: { skippedRemediation: err.reason, detail: err.message },
        awsRequestIds: [...ctx.requestIds],
        actor: "worker",
        note: err.reason,
      });
      await deps.store.setStatus(id, "skipped", { error: `${err.reason}: ${err.message}` });
      return { kind: "skipped_remediation" };
    }
    if (err instanceof EscalateRemediation) {
      // Not a failure of the step: it looked and found what it must not act on. Recorded with
      // what it found; a retry runs it again (containment.ts isDone).
      end({ outcome: "escalated" });
      await deps.store.stepFinished(id, step.name, {
        status: "skipped",
        output: escalationOutput(err.reason),
        awsRequestIds: [...ctx.requestIds],
        actor: "worker",
        note: `escalated: ${err.reason}`.slice(0, 500),
      });
      return { kind: "escalated", reason: err.reason };
    }
    const c = classifyStepError(err, ctx.signal, deps.signal);
    if (c.kind === "busy") {
      // Checked again when the job comes back; the step goes back to pending, re-run from its check.
      end({ outcome: "postponed" });
      await recordUnavailable(id, step.name, c, ctx.requestIds, deps);
      throw new Postpone(deps.postponeMs, "lock_busy");
    }
    deps.metrics.failures.inc({ playbook, error: c.label });
    if (c.kind === "unavailable") {
      end({ outcome: "postponed" });
      await recordUnavailable(id, step.name, c, ctx.requestIds, deps);
      throw new Unavailable(unreachableOf(err, ctx.signal, deps.signal) ?? "postgres", err);
    }
    const final = c.kind === "fatal" || (c.kind === "retryable" && attempt.attemptsMade + 1 >= attempt.attempts);
    end({ outcome: final ? "failed" : "retry" });
    await deps.store.stepFailed(id, step.name, {
      final,
      errorClass: c.kind,
      code: c.code,
      message: c.message,
      awsRequestIds: [...ctx.requestIds],
      actor: "worker",
    });
    if (final) {
      await deps.store.setStatus(id, "failed", { error: `${step.name}: ${c.code}: ${c.message}`.slice(0, 1_000) });
      throw new FailedForGood(`${step.name} failed: ${c.code}`);
    }
    deps.metrics.retries.inc({ playbook, step: step.name });
    if (c.kind === "throttled") throw new SlowDown(THROTTLE_PAUSE_MS);
    throw err;
  }
}

/**
 * Notes on the step that our infrastructure failed under it (the step goes back to pending, with
 * the code, and a `step.retrying` audit event), when Postgres can take the note: with Postgres
 * away this is the very write that fails, and the job is postponed all the same. The failure
 * path must never need the database to succeed.
 */
async function recordUnavailable(id: string, name: string, c: ClassifiedStepError, requestIds: readonly string[], deps: EngineDeps): Promise<void> {
  try {
    await deps.store.stepFailed(id, name, { final: false, errorClass: c.kind, code: c.code, message: c.message, awsRequestIds: [...requestIds], actor: "worker" });
  } catch (noted) {
    deps.logger.warn({ err: { message: noted instanceof Error ? noted.message : String(noted) }, step: name }, "could not note the outage on the step; postponing anyway");
  }
}

/** How a step that stopped the remediation ended (anything but done). */
export type StoppingOutcome = Exclude<StepOutcome, { kind: "done" }>;

/**
 * The playbook's own stops (SkipRemediation, EscalateRemediation) thrown by a step's act while it
 * ran in plan or dry-run mode: the skip is recorded on the remediation as in act mode, and the
 * escalation handed back for the runner to end. Null: the error is not one of them.
 */
export async function stopWhilePlanning(err: unknown, loaded: LoadedRemediation, deps: EngineDeps): Promise<StoppingOutcome | null> {
  if (err instanceof EscalateRemediation) return { kind: "escalated", reason: err.reason, ...(err.step === undefined ? {} : { step: err.step }) };
  if (!(err instanceof SkipRemediation)) return null;
  await deps.store.setStatus(loaded.ref.id, "skipped", { error: `${err.reason}: ${err.message}` });
  return { kind: "skipped_remediation" };
}


function validOutput(step: Step, output: Json): Json {
  const parsed = step.output.safeParse(output);
  if (!parsed.success) throw new OutputShapeError(`step ${step.name} returned an output of the wrong shape: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}
