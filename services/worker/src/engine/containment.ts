// When a step counts as done, and when a remediation counts as contained: each playbook names its
// containment steps (Playbook.containment); the worker records `contained_at` when the last of
// them is done, and that record decides hand-over, the isolation cap and release eligibility.
import type { ReleasableStatus } from "@gdr/core/approvals/plan-fields";
import type { Json, Playbook } from "./step.js";
import type { LoadedRemediation, StepRow } from "./store.js";

export type StepStatus = StepRow["status"];

/** A finished step: the cursor moves past it, and its output is there for the steps after it. */
const DONE: ReadonlySet<StepStatus> = new Set(["succeeded", "skipped", "unavailable", "verified"]);

/**
 * Statuses of a containment step that contain. `unavailable` is done (the playbook carries on)
 * but did not do its work, so it contains nothing.
 */
const CONTAINING: ReadonlySet<StepStatus> = new Set(["succeeded", "skipped", "verified"]);

/**
 * The output recorded on a step that escalated (EscalateRemediation): the step stopped for a
 * person, so a retry must run it again rather than resume past it.
 */
export function escalationOutput(reason: string): Json {
  return { escalated: reason };
}

function isEscalation(output: Json | null): boolean {
  if (output === null || typeof output !== "object" || Array.isArray(output)) return false;
  const keys = Object.keys(output);
  return keys.length === 1 && keys[0] === "escalated" && typeof output["escalated"] === "string";
}

/**
 * A dry run's record on a step (`{ dryRun: true, calls, permissions }`): what the step would have
 * done. It is never the step's output, and it contains nothing.
 */
function isDryRunRecord(output: Json | null): boolean {
  return output !== null && typeof output === "object" && !Array.isArray(output) && output["dryRun"] === true;
}

export function isDone(row: Pick<StepRow, "status" | "output"> | undefined): boolean {
  return row !== undefined && DONE.has(row.status) && !(row.status === "skipped" && isEscalation(row.output));
}

export function contains(status: StepStatus | undefined): boolean {
  return status !== undefined && CONTAINING.has(status);
}

/** The outputs of the steps done, by name: what `ctx.outputs` starts from. */
export function outputsOf(rows: ReadonlyMap<string, StepRow>): Map<string, Json> {
  const outputs = new Map<string, Json>();
  // A dry run's records are left out: a retried dry run derives every step again from live state.
  for (const [name, row] of rows) if (isDone(row) && row.output !== null && !isDryRunRecord(row.output)) outputs.set(name, row.output);
  return outputs;
}

/**
 * Whether a containment step's work is done: it contained itself, or it could not (`unavailable`)
 * and the playbook's fallback for it (Playbook.fallbacks) contained instead.
 */
function containmentMet(playbook: Playbook, name: string, status: (step: string) => StepStatus | undefined): boolean {
  if (contains(status(name))) return true;
  const fallback = playbook.fallbacks?.[name];
  return fallback !== undefined && status(name) === "unavailable" && contains(status(fallback));
}

/**
 * The containment step whose fallback `step` is, when that containment step could not do its work
 * (so `step` is the containment left, offered for approval): undefined otherwise.
 */
export function fallbackFor(playbook: Playbook, step: string, status: (step: string) => StepStatus | undefined): string | undefined {
  return Object.entries(playbook.fallbacks ?? {}).find(([name, fallback]) => fallback === step && status(name) === "unavailable")?.[0];
}

/**
 * Whether the remediation is contained: `contained_at` is on record, or (a remediation whose
 * containment was recorded before the column existed, and not backfilled) every containment step
 * is done with an effect, its own or its fallback's. A playbook that names no containment step
 * never contains.
 */
export function isContained(playbook: Playbook, loaded: Pick<LoadedRemediation, "containedAt">, rows: ReadonlyMap<string, Pick<StepRow, "status" | "output">>): boolean {
  if (loaded.containedAt !== null) return true;
  const status = (name: string): StepStatus | undefined => {
    const row = rows.get(name);
    return isDone(row) && !isDryRunRecord(row?.output ?? null) ? row?.status : undefined;
  };
  return playbook.containment.length > 0 && playbook.containment.every((name) => containmentMet(playbook, name, status));
}

/**
 * Whether finishing `step` (with an effect) completes containment: it is one of the playbook's
 * containment steps, or the fallback of one that could not do its work, and every other
 * containment step already contains (itself or through its fallback).
 */
export function completesContainment(playbook: Playbook, step: string, statuses: ReadonlyMap<string, StepStatus>): boolean {
  const status = (name: string): StepStatus | undefined => statuses.get(name);
  const fallbackOf = fallbackFor(playbook, step, status);
  if (!playbook.containment.includes(step) && fallbackOf === undefined) return false;
  return playbook.containment.every((name) => name === step || name === fallbackOf || containmentMet(playbook, name, status));
}

/** The status a release starts from, or null when the remediation is not contained. */
export function releasableStatus(status: LoadedRemediation["status"], contained: boolean): ReleasableStatus | null {
  if (status === "succeeded") return status;
  return status === "failed" && contained ? status : null;
}
