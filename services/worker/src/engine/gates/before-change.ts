// What the engine checks right before a step that changes anything (and before it freezes a plan
// that would ask a person to approve changes), and how refused or unconfirmed work ends.
import type { RemediationJob } from "@gdr/core/queues/catalog";
import type { ActionRule } from "../actions.js";
import { isDone } from "../containment.js";
import type { EngineDeps } from "../deps.js";
import { escalate, stepEscalation, type Stopped } from "../escalate.js";
import { FailedForGood } from "../signals.js";
import type { Json, Step, StepContext } from "../step.js";
import { runStep, type Attempt } from "../step-runner.js";
import type { LoadedRemediation, StepRow } from "../store.js";
import { CONFIRM_STEP, confirmFinding, isConfirmed, unconfirmedReason } from "./confirm-finding.js";

/** How a job ends when a gate stops it, with the detail people are told. */
export type GateStop = Stopped;

export interface GateInput {
  job: RemediationJob;
  rule: ActionRule;
  /** Whether the remediation is contained (the playbook's containment steps are done). */
  contained: boolean;
  loaded: LoadedRemediation;
  /** The step about to run (or to be frozen into a plan); `order` is its place in the playbook. */
  step: Step;
  order: number;
  /** The playbook's steps this job runs (containment or release). */
  steps: readonly Step[];
  rows: ReadonlyMap<string, StepRow>;
  ctx: StepContext & { requestIds: string[] };
  outputs: Map<string, Json>;
  attempt: Attempt;
}

/**
 * The account must still be on the policy's allow list (ingest checked it when the finding came
 * in; queued and approved work must not outlive a removal). Then, once per remediation and only
 * for containment (a release undoes this service's own change and needs no confirmation), the
 * finding must be confirmed by GuardDuty. Null: go ahead.
 */
export async function gateBeforeChange(input: GateInput, deps: EngineDeps): Promise<GateStop | null> {
  const { loaded } = input;
  const refusal = deps.gates.accountRefusal(loaded.ref.accountId);
  if (refusal) return refuse(input, refusal, deps);

  if (input.rule.undoesContainment || !deps.gates.confirmFindings) return null;
  const confirmedOnce = isConfirmed(input.outputs.get(CONFIRM_STEP));
  // A destructive step is confirmed again, right before its plan is frozen and right before it
  // runs: its approval can come a day after the first confirmation, and GuardDuty may have
  // archived the finding meanwhile (a false positive someone closed). Other steps: once.
  if (confirmedOnce && !input.step.destructive) return null;
  const gate = confirmedOnce ? confirmAgainBefore(input.step.name) : confirmFinding;
  // Recorded like a step (row, output, request ids, audit event), at the place of the step it
  // guards; its errors are classified as every step's are (throttled: retried; denied: failed).
  const ran = await runStep(gate, input.order, loaded, input.ctx, input.outputs, input.attempt, deps);
  if (ran.kind === "skipped_remediation") return { outcome: "skipped" };
  if (ran.kind === "escalated") return escalate(stepEscalation(input, gate.name, ran.reason), deps);
  const output = input.outputs.get(gate.name);
  if (isConfirmed(output)) return null;
  // GuardDuty does not confirm the finding: a person must look, nothing (more) is changed in AWS.
  const reason = unconfirmedReason(output);
  return escalate(
    {
      loaded,
      contained: input.contained,
      error: `finding_unverified: ${reason}`,
      audit: { action: "finding.unverified", detail: { step: gate.name, reason, check: output ?? null } },
    },
    deps,
  );
}

/** The confirmation asked again before a destructive step: a row of its own, asked every time. */
function confirmAgainBefore(stepName: string): Step {
  return { ...confirmFinding, name: `${CONFIRM_STEP}-before-${stepName}`, check: () => Promise.resolve({ done: false }) };
}

/**
 * Work refused by the allow list. Containment not yet done ends `cancelled` with the reason. Once
 * the playbook's containment is done (an evidence or terminate continuation, a release stopped
 * half-way) it ends `failed` with the reason instead: the resource is contained, and `failed`
 * after containment is the status a person can still release or retry (`cancelled` is neither).
 * A release that has not started changing anything goes back to the status it was asked from
 * (the resource is still contained, and on record as such).
 */
async function refuse(input: GateInput, refusal: string, deps: EngineDeps): Promise<GateStop> {
  const { job, loaded, step, steps, rows } = input;
  const id = loaded.ref.id;
  const message = `account_not_allowed: ${refusal}`;
  await deps.store.releaseWaitingSteps(id);
  const releaseStarted = steps.some((s) => isDone(rows.get(s.name)));
  const backTo = input.rule.undoesContainment && !releaseStarted ? (loaded.planReleaseFrom ?? releasable(loaded.status)) : null;
  // A release refused before its plan was frozen finds the status it would go back to: it keeps
  // it (and its finishedAt). One refused after its approval (status running) is put back.
  const ended = backTo ?? (input.contained ? "failed" : "cancelled");
  if (backTo === null) await deps.store.setStatus(id, ended, { error: message });
  else if (backTo !== loaded.status) await deps.store.setStatus(id, backTo, backTo === "succeeded" ? { error: null } : {});
  await deps.store.audit(id, "worker", "remediation.refused", {
    reason: "account_not_allowed",
    message: refusal,
    action: job.action,
    step: step.name,
    status: ended,
  });
  deps.logger.warn({ remediationId: id, accountId: loaded.ref.accountId, step: step.name }, "account not allowed by the policy: nothing changed");
  if (ended === "failed") {
    // runRemediation tells people about a FailedForGood (and BullMQ does not retry it).
    const where = input.rule.undoesContainment ? "the release stopped half-way" : "the resource stays contained";
    throw new FailedForGood(`${message}; ${where}, nothing more is changed`);
  }
  const left = backTo ? "release refused; the resource stays contained" : "nothing more is changed";
  return { outcome: "cancelled", detail: `${message}; ${left}` };
}

function releasable(status: LoadedRemediation["status"]): "succeeded" | "failed" | null {
  return status === "succeeded" || status === "failed" ? status : null;
}
