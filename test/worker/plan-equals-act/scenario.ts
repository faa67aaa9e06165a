// What a playbook's scenario gives the plan-equals-act test: every step it ran, each with the
// calls of the plan a person approved for it and the calls its act then sent. A scenario drives
// its playbook through ingest, the approval gate and release like any remediation; one module per
// playbook (instance.ts, ...), listed in ../plan-equals-act.test.ts.
import type { PlaybookName } from "@gdr/core/queues/playbooks";
import type { PlannedCall } from "../../../services/worker/src/engine/step.js";
import type { EngineWorld } from "../engine-harness.js";
import { stepRows, type RemediationRow } from "../../support/index.js";
import type { CallRecorder, SentCall } from "./recorder.js";

export interface ScenarioEnv {
  world: EngineWorld;
  /** Install on every lane the scenario starts: `startLane(world, { awsMiddleware: recorder.install })`. */
  recorder: CallRecorder;
}

export interface StepRun {
  playbook: PlaybookName;
  remediationId: string;
  step: string;
  /** The step's status once it ran (succeeded, skipped, unavailable, verified). */
  status: string;
  planned: PlannedCall[];
  sent: SentCall[];
}

export interface Scenario {
  playbook: PlaybookName;
  run(env: ScenarioEnv): Promise<StepRun[]>;
}

interface PlanStep {
  name: string;
  calls: PlannedCall[];
}

/** The steps of a remediation's frozen plan (read from its row), with their calls. */
export function planOf(row: RemediationRow): PlanStep[] {
  return (row.plan as { steps: PlanStep[] }).steps;
}

/**
 * The runs of the steps a plan covered, and of `unplanned` steps (read-only steps, which run
 * before a plan is frozen and so appear in none: they must send no change), from the record.
 */
export async function stepRunsOf(
  env: ScenarioEnv,
  playbook: PlaybookName,
  remediationId: string,
  plan: readonly PlanStep[],
  unplanned: readonly string[] = [],
): Promise<StepRun[]> {
  const rows = new Map((await stepRows(env.world.db, remediationId)).map((r) => [r.name, r]));
  const covered = [...unplanned.map((name) => ({ name, calls: [] as PlannedCall[] })), ...plan];
  return covered.map((s) => ({
    playbook,
    remediationId,
    step: s.name,
    status: rows.get(s.name)?.status ?? "never ran",
    planned: s.calls,
    sent: env.recorder.sentBy(remediationId, s.name),
  }));
}
