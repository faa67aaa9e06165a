import type { ReleasableStatus } from "@gdr/core/approvals/plan-fields";
import { remediationEvent } from "@gdr/core/notify/index";
import type { RemediationJob } from "@gdr/core/queues/catalog";
import type { EngineDeps } from "./deps.js";
import { gateBeforeChange } from "./gates/before-change.js";
import { buildPlan, planAsJson, planHash, planSlice } from "./plan.js";
import { FailedForGood, Postpone } from "./signals.js";
import { outsideStep } from "./outside-step.js";
import type { AwsClients } from "@gdr/core/aws/clients";
import { callsFor } from "./calls.js";
import { deriveCalls, type RecordingContext } from "./derive.js";
import type { Json, Playbook, Step, StepMode } from "./step.js";
import { runStep, type Attempt } from "./step-runner.js";
import type { LoadedRemediation } from "./store.js";

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
interface Ended {
  outcome: RunOutcome;
  detail?: string;
}

/**
 * Runs (or resumes) one remediation job: the playbook's steps from the first unfinished one,
 * honouring the kill switch, the per-resource lock, the mode and the approval gate. Nothing waits
 * in memory: a step that needs a person ends the job with the remediation `awaiting_approval`.
 */
export async function runRemediation(job: RemediationJob, attempt: Attempt, deps: EngineDeps): Promise<RunOutcome> {
  const loaded = await deps.store.load(job.remediationId);
  if (!loaded) throw new FailedForGood(`remediation ${job.remediationId} does not exist`);
  assertMatches(job, loaded);
  try {
    const ended = await runLoaded(job, loaded, attempt, deps);
    const outcome = typeof ended === "string" ? ended : ended.outcome;
    const detail = typeof ended === "string" ? undefined : ended.detail;
    notifyOutcome(deps, loaded, outcome, detail ?? (job.action === "release" ? "release" : undefined));
    return outcome;
  } catch (err) {
    // Past assertMatches, every FailedForGood has already marked the remediation failed.
    if (err instanceof FailedForGood) notifyOutcome(deps, loaded, "failed", err.message);
    throw err;
  }
}

/** Outcomes people hear about; the notifier delivers in the background and never throws. */
function notifyOutcome(deps: EngineDeps, loaded: LoadedRemediation, outcome: RunOutcome | "failed", detail?: string): void {
  if (outcome === "dry_run" || outcome === "skipped" || outcome === "nothing_to_do" || outcome === "handed_over") return;
  deps.notifier.notify(remediationEvent(outcome, loaded.ref, deps.publicUrl, detail));
}

async function runLoaded(job: RemediationJob, loaded: LoadedRemediation, attempt: Attempt, deps: EngineDeps): Promise<RunOutcome | Ended> {
  if (!(await hasWork(job, loaded, deps))) return "nothing_to_do";

  const playbook = deps.playbookFor(job.playbook);
  if (!playbook) {
    await deps.store.setStatus(loaded.ref.id, "failed", { error: `no playbook ${job.playbook} in this worker` });
    throw new FailedForGood(`no playbook ${job.playbook}`);
  }
  if ((await deps.limits.isPaused()).paused) throw new Postpone(deps.postponeMs, "paused");

  const lock = await deps.limits.acquireResource(`${loaded.ref.accountId}/${loaded.ref.region}/${loaded.ref.resourceKey}`);
  if (!lock) throw new Postpone(deps.postponeMs, "resource_locked");
  try {
    return await runLocked(job, playbook, lock.lost, attempt, deps);
  } finally {
    await lock.release();
  }
}

/**
 * The work under the resource lock, decided on the remediation as it is now: the row read before
 * the lock may be stale (another job for the same remediation held the lock meanwhile and settled
 * it), so it is read again here.
 */
async function runLocked(job: RemediationJob, playbook: Playbook, lockLost: AbortSignal, attempt: Attempt, deps: EngineDeps): Promise<RunOutcome | Ended> {
  const loaded = await deps.store.load(job.remediationId);
  if (!loaded) throw new FailedForGood(`remediation ${job.remediationId} does not exist`);
  assertMatches(job, loaded);
  if (!(await hasWork(job, loaded, deps))) return "nothing_to_do";
  if (loaded.status === "queued") await deps.store.setStatus(loaded.ref.id, "running");
  if (loaded.ref.mode === "notify" && job.action === "contain") {
    // The decision is recorded here; runRemediation hands the "notified" outcome to the notifier.
    await deps.store.audit(loaded.ref.id, "worker", "remediation.notified", { playbook: job.playbook });
    await deps.store.setStatus(loaded.ref.id, "notified");
    return "notified";
  }
  const steps = job.action === "release" ? playbook.release : playbook.steps;
  const rows = await deps.store.steps(loaded.ref.id);
  const outputs = new Map<string, Json>();
  for (const [name, row] of rows) if ((row.status === "succeeded" || row.status === "skipped") && row.output !== null) outputs.set(name, row.output);
  // A release is frozen from a contained remediation: succeeded, or failed after containment.
  const releaseFrom = releasableStatus(loaded.status, rows.get(deps.containmentStep));
  const signal = AbortSignal.any([deps.signal, lockLost]);
  const outside = { action: job.action, loaded, attempt, releaseFrom, signal };
  const base = await outsideStep({ ...outside, doing: "credentials" }, deps, () => baseFor(loaded, signal, deps));
  const ctx = contextFor(base, "act", outputs);

  if (loaded.ref.mode === "dry_run") return await dryRun(job.action, steps, loaded, base, outputs, attempt, deps);

  // An evidence job runs under the approval (if any) that its containment ran under.
  const approved = job.action === "contain" ? null : await approvalFor(job, loaded, deps);
  if (job.action === "continue" && !approved) return "nothing_to_do";
  if (job.action === "release" && !approved && !releaseFrom) return "nothing_to_do";
  // An approved plan is being carried out: say so, instead of "waiting for you".
  if (approved && loaded.status === "awaiting_approval") await deps.store.setStatus(loaded.ref.id, "running");
  let capReserved = false;
  // Whether this job ran the containment step itself (`rows` was read before it did).
  let containedNow = false;

  for (const [index, step] of steps.entries()) {
    const row = rows.get(step.name);
    if (row && (row.status === "succeeded" || row.status === "skipped")) continue;
    if (containedNow) {
      // Contained by this job just now: the rest (evidence, verification, any gated step) goes
      // to an evidence job at a lower priority, so that other resources' containment does not
      // queue behind it. (A job that finds containment done by an earlier run, after a crash or
      // on a retry, carries on itself: it has no containment of its own to hurry.)
      await deps.handOver({ ...job, action: "evidence" }, `${attempt.jobId}-evidence`);
      await deps.store.audit(loaded.ref.id, "worker", "remediation.handed_over", { from: job.action, next: step.name });
      return "handed_over";
    }
    if ((await deps.limits.isPaused()).paused) throw new Postpone(deps.postponeMs, "paused");
    if (!step.readOnly) {
      // Before anything changes, and before a person is asked to approve changes: the account
      // must still be allowed, and GuardDuty must confirm the finding (see gates/).
      const stop = await gateBeforeChange({ job, loaded, step, order: index, steps, rows, ctx, outputs, attempt }, deps);
      if (stop) return stop;
    }
    // An approval covers the steps of the plan it approved, nothing else: a destructive step
    // frozen later is a decision of its own. A decision made by the system (an approval that
    // expired into `contain`) never stands for a person's consent to a destructive step.
    const covered = approved !== null && loaded.planSteps.includes(step.name) && !(step.destructive && approved.actor.startsWith("system:"));
    const hold = job.action === "release" ? null : holdReason(steps, outputs);
    if (!covered && needsApproval(step, loaded, job.action, hold)) {
      // Declining a release, or a destructive step after containment, leaves the resource contained.
      // (Past containment `rows` shows its step done: a job that contains hands over first.)
      const contained = job.action === "release" || isDone(rows.get(deps.containmentStep));
      if (step.destructive && !contained) {
        // Destructive steps come after containment, in every mode; a playbook that orders them
        // otherwise is refused rather than offered to an approver.
        const error = `playbook ${job.playbook} puts destructive step ${step.name} before ${deps.containmentStep}`;
        await deps.store.setStatus(loaded.ref.id, "failed", { error });
        throw new FailedForGood(error);
      }
      // The hold explains a containment plan; a destructive step waits for its own reason.
      const reason = step.destructive ? null : hold;
      const plan = await outsideStep({ ...outside, doing: "plan", step: step.name }, deps, () =>
        buildPlan(loaded.ref.id, job.action, planSlice(steps, index), (sofar) => contextFor(base, "plan", sofar), outputs, {
          ifDeclined: contained ? "contained" : "nothing_done",
          ...(job.action === "release" && releaseFrom ? { releaseFrom } : {}),
          ...(reason ? { reason } : {}),
        }),
      );
      await deps.store.awaitApproval(loaded.ref.id, step.name, index, planAsJson(plan), planHash(plan), "worker");
      if (reason) await deps.store.audit(loaded.ref.id, "worker", "remediation.held", { step: step.name, reason, mode: loaded.ref.mode });
      return { outcome: "awaiting_approval", ...(reason ? { detail: reason } : {}) };
    }
    if (!capReserved && job.action !== "release" && !step.readOnly && !isDone(rows.get(deps.containmentStep))) {
      // Reserved before the first step that changes anything (leaving Auto Scaling already
      // takes the instance out of service), so a burst of findings cannot put a fleet in
      // standby faster than the cap allows isolations.
      const slot = await deps.limits.reserveIsolation();
      if (!slot.ok) throw new Postpone(Math.max(slot.retryInMs, 250), "isolation_cap");
      capReserved = true;
    }
    if ((await runStep(step, index, loaded, ctx, outputs, attempt, deps)) === "skipped_remediation") return "skipped";
    if (step.name === deps.containmentStep && job.action !== "evidence") containedNow = true;
  }
  await deps.store.setStatus(loaded.ref.id, "succeeded", { error: null });
  return "succeeded";
}

/**
 * The gate. `auto`: only destructive steps wait. `approval`: nothing changes until a person has
 * approved; read-only steps (identify) run first so the frozen plan is built from live state.
 * Release (undoing containment) always waits for a person. A hold (a read-only step found a
 * reason, e.g. the exemption tag on the live resource) makes auto mode wait like approval mode.
 */
function needsApproval(step: Step, loaded: LoadedRemediation, action: RemediationJob["action"], hold: string | null): boolean {
  if (step.destructive || action === "release") return true;
  if (step.readOnly === true) return false;
  return loaded.ref.mode === "approval" || hold !== null;
}

/** The first reason a finished read-only step gives for a person to decide (Step.holdFor), or null. */
function holdReason(steps: readonly Step[], outputs: ReadonlyMap<string, Json>): string | null {
  for (const step of steps) {
    const output = outputs.get(step.name);
    if (!step.holdFor || output === undefined) continue;
    const reason = step.holdFor(output);
    if (reason) return reason;
  }
  return null;
}

/**
 * A continuation or release runs only under an approval of the plan now on record: same hash,
 * and a plan made for this kind of job (an approved terminate plan never authorises a release).
 */
async function approvalFor(job: RemediationJob, loaded: LoadedRemediation, deps: EngineDeps): Promise<{ actor: string } | null> {
  const wanted = job.action === "release" ? "release" : "continue";
  if (!loaded.planHash || loaded.planAction !== wanted) return null;
  const approval = await deps.store.approvedFor(loaded.ref.id, loaded.planHash);
  if (!approval && job.action === "continue") {
    deps.logger.warn({ remediationId: loaded.ref.id }, "continuation without an approval of the current plan; nothing done");
  }
  return approval;
}

function isDone(row: { status: string } | undefined): boolean {
  return row?.status === "succeeded" || row?.status === "skipped";
}

/** The status a release starts from, or null when the remediation is not contained. */
function releasableStatus(status: LoadedRemediation["status"], containment: { status: string } | undefined): ReleasableStatus | null {
  if (status === "succeeded") return status;
  return status === "failed" && isDone(containment) ? status : null;
}

/** Whether the remediation's status leaves this job anything to do (jobs can be redelivered). */
async function hasWork(job: RemediationJob, loaded: LoadedRemediation, deps: EngineDeps): Promise<boolean> {
  const status = loaded.status;
  const ok = {
    contain: status === "queued" || status === "running",
    continue: status === "awaiting_approval" || status === "running",
    // Handed over by the job that contained: the remediation is still running.
    evidence: status === "running",
    // A release starts from a contained remediation (succeeded, or failed after containment; the
    // step is checked once the rows are read) and continues after its approval.
    release: status === "succeeded" || status === "failed" || status === "awaiting_approval" || status === "running",
  }[job.action];
  if (!ok) deps.logger.info({ remediationId: loaded.ref.id, status, action: job.action }, "remediation has nothing to do for this job");
  return Promise.resolve(ok);
}

/** The job's payload must describe the remediation row it names (Redis is not the record). */
function assertMatches(job: RemediationJob, loaded: LoadedRemediation): void {
  const r = loaded.ref;
  if (r.accountId !== job.accountId || r.region !== job.region || r.resourceKey !== job.resourceKey || r.playbook !== job.playbook) {
    throw new FailedForGood(`job payload does not match remediation ${r.id}; refusing to act`);
  }
}

async function dryRun(
  action: RemediationJob["action"],
  steps: readonly Step[],
  loaded: LoadedRemediation,
  base: ContextBase,
  outputs: Map<string, Json>,
  attempt: Attempt,
  deps: EngineDeps,
): Promise<RunOutcome> {
  const planned: Json[] = [];
  for (const [index, step] of steps.entries()) {
    if (step.readOnly) {
      if ((await runStep(step, index, loaded, contextFor(base, "act", outputs), outputs, attempt, deps)) === "skipped_remediation") return "skipped";
      continue;
    }
    const at = { action, loaded, attempt, doing: "dry_run", step: step.name, signal: base.signal } as const;
    base.requestIds.length = 0;
    const recorded = await outsideStep(at, deps, () => deriveCalls(step, contextFor(base, "dry_run", outputs), outputs));
    const calls = recorded.calls as unknown as Json;
    const permissions = recorded.permissions as unknown as Json;
    await deps.store.stepStarted(loaded.ref.id, step.name, index);
    const output: Json = { dryRun: true, calls, permissions };
    await deps.store.stepFinished(loaded.ref.id, step.name, { status: "skipped", output, awsRequestIds: [...base.requestIds], actor: "worker", note: "dry-run" });
    planned.push({ name: step.name, destructive: step.destructive, calls, permissions });
  }
  const plan: Json = { remediationId: loaded.ref.id, steps: planned };
  await deps.store.recordPlan(loaded.ref.id, plan, planHash(plan));
  await deps.store.setStatus(loaded.ref.id, "dry_run");
  return "dry_run";
}

/** The pieces of a step context that do not depend on the mode, resolved once per job. */
interface ContextBase {
  loaded: LoadedRemediation;
  aws: AwsClients;
  signal: AbortSignal;
  deps: EngineDeps;
  requestIds: string[];
}

async function baseFor(loaded: LoadedRemediation, signal: AbortSignal, deps: EngineDeps): Promise<ContextBase> {
  const aws = await deps.aws.forTarget(loaded.ref.accountId, loaded.ref.region);
  return { loaded, aws, signal, deps, requestIds: [] };
}

/**
 * A step context in a mode. Plan and dry-run contexts record changes instead of sending them, take
 * no lock and write no audit event: they must change nothing.
 */
function contextFor(base: ContextBase, mode: StepMode, outputs: ReadonlyMap<string, Json>): RecordingContext & { requestIds: string[] } {
  const { loaded, aws, signal, deps, requestIds } = base;
  const throttle = (family: string): Promise<void> => deps.limits.throttle(loaded.ref.accountId, family, signal);
  const noteRequestId = (id: string | undefined): void => {
    if (id) requestIds.push(id);
  };
  const calls = callsFor(mode, { aws, signal, throttle, noteRequestId });
  const acting = mode === "act";
  return {
    remediation: loaded.ref,
    finding: loaded.finding,
    mode,
    aws,
    client: (name) => deps.outsideClient(loaded.ref, name, signal),
    outputs,
    signal,
    logger: deps.logger.child({ remediationId: loaded.ref.id, findingId: loaded.ref.findingId, resource: loaded.ref.resourceKey, mode }),
    read: calls.read,
    change: calls.change,
    changeOutside: calls.changeOutside,
    recorded: calls.recorded,
    throttle,
    noteRequestId,
    tags: { findingId: loaded.ref.findingId, remediationId: loaded.ref.id },
    withLock: (name, fn) => (acting ? deps.limits.withLock(name, fn) : fn()),
    audit: (action, detail) => (acting ? deps.store.audit(loaded.ref.id, "worker", action, detail) : Promise.resolve()),
    requestIds,
  };
}
