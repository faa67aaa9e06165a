import { remediationEvent } from "@gdr/core/notify/index";
import type { RemediationJob } from "@gdr/core/queues/catalog";
import { ACTIONS } from "./actions.js";
import type { EngineDeps } from "./deps.js";
import { assertMatches, hasWork, runLocked, type Ended, type RunOutcome } from "./run-locked.js";
import { FailedForGood, Postpone } from "./signals.js";
import type { Attempt } from "./step-runner.js";
import type { LoadedRemediation } from "./store.js";

export type { RunOutcome } from "./run-locked.js";

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
    notifyOutcome(deps, loaded, outcome, detail ?? ACTIONS[job.action].notifyDetail);
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
  if (!hasWork(ACTIONS[job.action], job, loaded, deps)) return "nothing_to_do";

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
