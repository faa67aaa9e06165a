// Dry-run mode: read-only steps run, every other step's act runs with its changes recorded and
// checked (EC2 DryRun where offered), and the plan is kept on the remediation. Nothing changes.
import type { RemediationJob } from "@gdr/core/queues/catalog";
import { contextFor, type ContextBase } from "./context.js";
import type { EngineDeps } from "./deps.js";
import { deriveCalls } from "./derive.js";
import { outsideStep } from "./outside-step.js";
import { planHash } from "./plan.js";
import type { Json, Step } from "./step.js";
import { runStep, stopWhilePlanning, type Attempt, type StoppingOutcome } from "./step-runner.js";
import type { LoadedRemediation } from "./store.js";

/** Recorded, or ended early by a step (the resource is gone, or a person must look). */
export type DryRunEnd = { kind: "dry_run" } | { kind: "stopped"; step: Step; outcome: StoppingOutcome };

export async function dryRun(
  action: RemediationJob["action"],
  steps: readonly Step[],
  loaded: LoadedRemediation,
  base: ContextBase,
  outputs: Map<string, Json>,
  attempt: Attempt,
  deps: EngineDeps,
): Promise<DryRunEnd> {
  const planned: Json[] = [];
  for (const [index, step] of steps.entries()) {
    if (step.readOnly) {
      const ran = await runStep(step, index, loaded, contextFor(base, "act", outputs), outputs, attempt, deps);
      if (ran.kind !== "done") return { kind: "stopped", step, outcome: ran };
      continue;
    }
    const at = { action, loaded, attempt, doing: "dry_run", step: step.name, signal: base.signal } as const;
    base.requestIds.length = 0;
    let recorded;
    try {
      recorded = await outsideStep(at, deps, () => deriveCalls(step, contextFor(base, "dry_run", outputs), outputs));
    } catch (err) {
      const stopped = await stopWhilePlanning(err, loaded, deps);
      if (stopped) return { kind: "stopped", step, outcome: stopped };
      throw err;
    }
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
  return { kind: "dry_run" };
}
