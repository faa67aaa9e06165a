// One job's work under the resource lock: the playbook's steps from the first unfinished one, as
// the job's row in the action table (actions.ts) says: which steps, under which approval, what
// waits for a person, when the isolation cap is taken and when the rest is handed over.
import type { RemediationJob } from "@gdr/core/queues/catalog";
import { evidenceJobId } from "@gdr/core/queues/job-ids";
import { ACTIONS, stepsFor, type ActionRule } from "./actions.js";
import { approvalFor, covers, holdReason, needsApproval } from "./approval.js";
import { completesContainment, contains, fallbackFor, isContained, isDone, outputsOf, releasableStatus, type StepStatus } from "./containment.js";
import { baseFor, contextFor, type ContextBase } from "./context.js";
import type { EngineDeps } from "./deps.js";
import { dryRun } from "./dry-run.js";
import { escalate, stepEscalation, type Stopped } from "./escalate.js";
import { gateBeforeChange } from "./gates/before-change.js";
import { outsideStep } from "./outside-step.js";
import { buildPlan, planAsJson, planHash, planSlice } from "./plan.js";
import { FailedForGood, Postpone } from "./signals.js";
import type { Json, Playbook, Step } from "./step.js";
import { runStep, stopWhilePlanning, type Attempt, type StoppingOutcome } from "./step-runner.js";
import type { LoadedRemediation, StepRow } from "./store.js";

export type RunOutcome =
  | "succeeded"
  | "awaiting_approval"
  | "dry_run"
  | "notified"
  | "skipped"
  | "nothing_to_do"
  | "handed_over"
  | "cancelled"
  | "escalated";

/** A job's outcome and what people are told about it (why it waits, why it stopped). */
export interface Ended {
  outcome: RunOutcome;
  detail?: string;
}

/** One job's state while its steps run. */
interface Run {
  job: RemediationJob;
  rule: ActionRule;
  playbook: Playbook;
  loaded: LoadedRemediation;
  steps: readonly Step[];
  /** The step rows as the job found them. */
  rows: ReadonlyMap<string, StepRow>;
  attempt: Attempt;
  base: ContextBase;
  outputs: Map<string, Json>;
  /** The status of every step done, kept current as this job runs steps. */
  statuses: Map<string, StepStatus>;
  /** Whether the remediation is contained (on record, or by this job just now). */
  contained: boolean;
  /** A release's starting status (succeeded, or failed after containment), or null. */
  releaseFrom: "succeeded" | "failed" | null;
  /** Why a fallback step (Playbook.fallbacks) is offered, when this job saw its step fail to contain. */
  fallbackReasons: Map<string, string>;
}

/** Whether the remediation's status leaves this job anything to do (jobs can be redelivered). */
export function hasWork(rule: ActionRule, job: RemediationJob, loaded: LoadedRemediation, deps: EngineDeps): boolean {
  const ok = rule.worksIn.has(loaded.status);
  if (!ok) deps.logger.info({ remediationId: loaded.ref.id, status: loaded.status, action: job.action }, "remediation has nothing to do for this job");
  return ok;
}

/** The job's payload must describe the remediation row it names (Redis is not the record). */
export function assertMatches(job: RemediationJob, loaded: LoadedRemediation): void {
  const r = loaded.ref;
  if (r.accountId !== job.accountId || r.region !== job.region || r.resourceKey !== job.resourceKey || r.playbook !== job.playbook) {
    throw new FailedForGood(`job payload does not match remediation ${r.id}; refusing to act`);
  }
}

/**
 * The work under the resource lock, decided on the remediation as it is now: the row read before
 * the lock may be stale (another job for the same remediation held the lock meanwhile and settled
 * it), so it is read again here.
 */
export async function runLocked(job: RemediationJob, playbook: Playbook, lockLost: AbortSignal, attempt: Attempt, deps: EngineDeps): Promise<RunOutcome | Ended> {
  const rule = ACTIONS[job.action];
  const loaded = await deps.store.load(job.remediationId);
  if (!loaded) throw new FailedForGood(`remediation ${job.remediationId} does not exist`);
  assertMatches(job, loaded);
  if (!hasWork(rule, job, loaded, deps)) return "nothing_to_do";
  if (loaded.status === "queued") await deps.store.setStatus(loaded.ref.id, "running");
  if (loaded.ref.mode === "notify" && rule.notifies) {
    // The decision is recorded here; runRemediation hands the "notified" outcome to the notifier.
    await deps.store.audit(loaded.ref.id, "worker", "remediation.notified", { playbook: job.playbook });
    await deps.store.setStatus(loaded.ref.id, "notified");
    return "notified";
  }
  const rows = await deps.store.steps(loaded.ref.id);
  const statuses = new Map<string, StepStatus>();
  for (const [name, row] of rows) if (isDone(row)) statuses.set(name, row.status);
  const contained = isContained(playbook, loaded, rows);
  const signal = AbortSignal.any([deps.signal, lockLost]);
  const releaseFrom = releasableStatus(loaded.status, contained);
  const base = await outsideStep({ action: job.action, loaded, attempt, releaseFrom, signal, doing: "credentials" }, deps, () => baseFor(loaded, signal, deps));
  const run: Run = { job, rule, playbook, loaded, steps: stepsFor(rule, playbook), rows, attempt, base, outputs: outputsOf(rows), statuses, contained, releaseFrom, fallbackReasons: new Map() };

  if (loaded.ref.mode === "dry_run") return await dryRunJob(run, deps);

  const approved = await approvalFor(rule, loaded, deps);
  if (!approved && rule.approval === "required") return "nothing_to_do";
  if (!approved && rule.approval === "required_unless_contained" && !releaseFrom) return "nothing_to_do";
  // An approved plan is being carried out: say so, instead of "waiting for you".
  if (approved && loaded.status === "awaiting_approval") await deps.store.setStatus(loaded.ref.id, "running");
  return await runSteps(run, approved, deps);
}

async function runSteps(run: Run, approved: { actor: string } | null, deps: EngineDeps): Promise<RunOutcome | Ended> {
  const { job, rule, playbook, loaded, steps, outputs } = run;
  const ctx = contextFor(run.base, "act", outputs);
  let capReserved = false;
  // Whether this job completed containment itself (not an earlier run).
  let containedNow = false;

  for (const [index, step] of steps.entries()) {
    if (run.statuses.has(step.name)) continue;
    if (containedNow) {
      // Contained by this job just now: the rest (evidence, verification, any gated step) goes
      // to an evidence job at a lower priority, so that other resources' containment does not
      // queue behind it. (A job that finds containment done by an earlier run, after a crash or
      // on a retry, carries on itself: it has no containment of its own to hurry.)
      await deps.handOver({ ...job, action: "evidence" }, evidenceJobId(run.attempt.jobId));
      await deps.store.audit(loaded.ref.id, "worker", "remediation.handed_over", { from: job.action, next: step.name });
      return "handed_over";
    }
    if ((await deps.limits.isPaused()).paused) throw new Postpone(deps.postponeMs, "paused");
    if (!step.readOnly || step.confirmFirst === true) {
      // Before anything changes, and before a person is asked to approve changes: the account
      // must still be allowed, and GuardDuty must confirm the finding (see gates/).
      const stop = await gateBeforeChange({ job, rule, contained: run.contained, loaded, step, order: index, steps, rows: run.rows, ctx, outputs, attempt: run.attempt }, deps);
      if (stop) return stop;
    }
    const hold = rule.everyStepAsks ? null : holdReason(steps, outputs);
    if (!covers(approved, loaded, step) && needsApproval(step, loaded, rule, hold) && !(await nothingToApprove(run, step, deps))) {
      return await freeze(run, index, step, hold, deps);
    }
    if (!capReserved && rule.reservesCap && playbook.isolates && !step.readOnly && !run.contained) {
      // Reserved before the first step that changes anything (leaving Auto Scaling already
      // takes the instance out of service), so a burst of findings cannot put a fleet out of
      // service faster than the cap allows isolations.
      const slot = await deps.limits.reserveIsolation();
      if (!slot.ok) {
        deps.metrics.isolationCapWaits.inc({ playbook: playbook.name });
        throw new Postpone(Math.max(slot.retryInMs, 250), "isolation_cap", playbook.name);
      }
      capReserved = true;
    }
    const last = !run.contained && completesContainment(playbook, step.name, run.statuses);
    const ran = await runStep(step, index, loaded, ctx, outputs, run.attempt, deps, { completesContainment: last });
    if (ran.kind !== "done") return await stoppedBy(run, step, ran, deps);
    run.statuses.set(step.name, ran.status);
    if (ran.status === "unavailable" && !rule.undoesContainment && playbook.containment.includes(step.name)) {
      const fallback = playbook.fallbacks?.[step.name];
      // A containment step that could not do its work leaves the resource exposed: never carry on
      // to `succeeded` as if it were contained. Without a fallback a person decides (the step's
      // record says why); with one, evidence work carries on and the fallback waits at the gate.
      if (fallback === undefined) {
        return await escalate(stepEscalation(run, step.name, `containment could not be done: ${ran.note ?? "not available"}`), deps);
      }
      run.fallbackReasons.set(fallback, `${step.name} could not be done: ${ran.note ?? "not available"}; ${fallback} is the containment left`);
    }
    if (last && contains(ran.status)) {
      run.contained = true;
      containedNow = rule.handsOver;
    }
  }
  await deps.store.setStatus(loaded.ref.id, "succeeded", { error: null });
  return "succeeded";
}

/**
 * A destructive step whose check finds nothing to do (it does not apply, e.g. draining the host of
 * a task that has its own interface, or its effect is there already): there is nothing to ask a
 * person, so the step runs (and is recorded with its check's note) instead of waiting for an
 * approval of no calls. The check runs in plan mode, so it can send nothing; its errors are
 * settled like a plan's.
 */
async function nothingToApprove(run: Run, step: Step, deps: EngineDeps): Promise<boolean> {
  if (!step.destructive || step.checkOnly === true) return false;
  const at = { action: run.job.action, loaded: run.loaded, attempt: run.attempt, releaseFrom: run.releaseFrom, signal: run.base.signal, doing: "plan", step: step.name } as const;
  const checked = await outsideStep(at, deps, () => step.check(contextFor(run.base, "plan", new Map(run.outputs))));
  return checked.done;
}

/** A step that ended the remediation: the resource is gone (skipped), or a person must look. */
async function stoppedBy(run: Run, step: Step, ran: StoppingOutcome, deps: EngineDeps): Promise<Stopped> {
  if (ran.kind === "skipped_remediation") return { outcome: "skipped" };
  return await escalate(stepEscalation(run, ran.step ?? step.name, ran.reason), deps);
}

/**
 * Freezes the plan a person must approve from the step that waits, and ends the job with the
 * remediation `awaiting_approval`. Nothing waits in memory.
 */
async function freeze(run: Run, index: number, step: Step, hold: string | null, deps: EngineDeps): Promise<Ended> {
  const { job, rule, loaded, steps, outputs } = run;
  // Declining a release, or a destructive step after containment, leaves the resource contained.
  const contained = rule.undoesContainment || run.contained;
  // The containment step this one stands in for (it could not do its work), if any.
  const standsInFor = fallbackFor(run.playbook, step.name, (name) => run.statuses.get(name));
  // A playbook without containment steps (it finds and, behind approval, removes) has no order to keep.
  const ordered = run.playbook.containment.length > 0;
  if (step.destructive && !contained && ordered && standsInFor === undefined) {
    // Destructive steps come after containment, in every mode; a playbook that orders them
    // otherwise is refused rather than offered to an approver.
    const error = `playbook ${job.playbook} puts destructive step ${step.name} before its containment (${run.playbook.containment.join(", ")})`;
    await deps.store.setStatus(loaded.ref.id, "failed", { error });
    throw new FailedForGood(error);
  }
  // The hold explains a containment plan; a destructive step waits for its own reason.
  const reason = step.destructive
    ? standsInFor === undefined
      ? null
      : (run.fallbackReasons.get(step.name) ?? `${standsInFor} could not be done (see its record); ${step.name} is the containment left`)
    : hold;
  const at = { action: job.action, loaded, attempt: run.attempt, releaseFrom: run.releaseFrom, signal: run.base.signal, doing: "plan", step: step.name } as const;
  let plan;
  try {
    plan = await outsideStep(at, deps, () =>
      buildPlan(loaded.ref.id, rule.plan, planSlice(steps, index), (sofar) => contextFor(run.base, "plan", sofar), outputs, {
        ifDeclined: contained ? "contained" : "nothing_done",
        ...(rule.undoesContainment && run.releaseFrom ? { releaseFrom: run.releaseFrom } : {}),
        ...(reason ? { reason } : {}),
      }),
    );
  } catch (err) {
    const stopped = await stopWhilePlanning(err, loaded, deps);
    if (stopped) return await stoppedBy(run, step, stopped, deps);
    throw err;
  }
  await deps.store.awaitApproval(loaded.ref.id, step.name, index, planAsJson(plan), planHash(plan), "worker");
  if (reason) await deps.store.audit(loaded.ref.id, "worker", "remediation.held", { step: step.name, reason, mode: loaded.ref.mode });
  return { outcome: "awaiting_approval", ...(reason ? { detail: reason } : {}) };
}

async function dryRunJob(run: Run, deps: EngineDeps): Promise<RunOutcome | Ended> {
  const ended = await dryRun(run.job.action, run.steps, run.loaded, run.base, run.outputs, run.attempt, deps);
  if (ended.kind === "dry_run") return "dry_run";
  return await stoppedBy(run, ended.step, ended.outcome, deps);
}
