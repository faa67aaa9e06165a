// What each kind of remediation job does, as data: the runner reads this table instead of asking
// which action it runs at every turn. A new kind of job is a new row, not new branches.
import type { RemediationJob } from "@gdr/core/queues/catalog";
import type { Playbook, Step } from "./step.js";
import type { RemediationStatus } from "./store.js";

export type JobAction = RemediationJob["action"];

export interface ActionRule {
  /** The remediation statuses in which this job has work; in any other, a redelivered job does nothing. */
  worksIn: ReadonlySet<RemediationStatus>;
  /** Which of the playbook's lists it runs: containment (and what follows it) or release. */
  steps: "steps" | "release";
  /** The kind of plan it freezes for a person, and (when it runs under one) the kind of approved plan it carries out. */
  plan: "continue" | "release";
  /**
   * Whether it looks for an approval of the plan on record, and what it does without one: runs
   * anyway (asking where the mode says), does nothing, or runs only from a contained remediation
   * (a release asked for is frozen into a plan first).
   */
  approval: "none" | "required" | "if_any" | "required_unless_contained";
  /** Every changing step waits for a person, whatever the mode (undoing containment). Holds then add nothing. */
  everyStepAsks: boolean;
  /** In notify mode the job only records and tells people that containment would be due. */
  notifies: boolean;
  /** Reserves an isolation under the per-minute cap before its first change, for a playbook that isolates and is not contained yet. */
  reservesCap: boolean;
  /** Hands the steps after containment to an `evidence` job once it has contained. */
  handsOver: boolean;
  /**
   * It undoes containment: it starts from a contained remediation, a refusal or a failure before it
   * changed anything leaves that status as it was, a decline leaves the resource contained, and
   * GuardDuty's confirmation is not asked (the change undone was this service's own).
   */
  undoesContainment: boolean;
  /** What notifications about its outcome say when nothing more precise is known. */
  notifyDetail?: string;
}

const statuses = (...list: RemediationStatus[]): ReadonlySet<RemediationStatus> => new Set(list);

export const ACTIONS: Readonly<Record<JobAction, ActionRule>> = Object.freeze({
  contain: {
    worksIn: statuses("queued", "running"),
    steps: "steps",
    plan: "continue",
    approval: "none",
    everyStepAsks: false,
    notifies: true,
    reservesCap: true,
    handsOver: true,
    undoesContainment: false,
  },
  continue: {
    worksIn: statuses("awaiting_approval", "running"),
    steps: "steps",
    plan: "continue",
    approval: "required",
    everyStepAsks: false,
    notifies: false,
    reservesCap: true,
    handsOver: true,
    undoesContainment: false,
  },
  // Handed over by the job that contained (the remediation is still running); it runs under the
  // approval, if any, that its containment ran under.
  evidence: {
    worksIn: statuses("running"),
    steps: "steps",
    plan: "continue",
    approval: "if_any",
    everyStepAsks: false,
    notifies: false,
    reservesCap: true,
    handsOver: false,
    undoesContainment: false,
  },
  // Starts from a contained remediation (succeeded, or failed after containment: checked against
  // the record once loaded) and continues after its approval.
  release: {
    worksIn: statuses("succeeded", "failed", "awaiting_approval", "running"),
    steps: "release",
    plan: "release",
    approval: "required_unless_contained",
    everyStepAsks: true,
    notifies: false,
    reservesCap: false,
    handsOver: false,
    undoesContainment: true,
    notifyDetail: "release",
  },
});

/** The steps a job of this kind runs. */
export function stepsFor(rule: ActionRule, playbook: Playbook): readonly Step[] {
  return rule.steps === "release" ? playbook.release : playbook.steps;
}
