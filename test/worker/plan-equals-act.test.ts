// What an approver approves is what runs: for every step of every playbook, the changing calls
// act sent (recorded through SDK middleware on the worker's own clients, with their parameters)
// equal the calls of the frozen plan that was approved, in order, parameters included; a
// placeholder of the plan stands for one value, the one AWS's answer gave. Each playbook brings a
// scenario (plan-equals-act/<playbook>.ts) that drives it through ingest, approval and release;
// every step of every playbook the worker runs must be covered by one.
import { DEFAULT_EXEMPT_TAG } from "@gdr/core/policy/schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlaybookRegistry } from "../../services/worker/src/playbooks/registry.js";
import { createEngineWorld, type EngineWorld } from "./engine-harness.js";
import { accessKeyScenario } from "./plan-equals-act/access-key.js";
import { compareToPlan } from "./plan-equals-act/compare.js";
import { containerImageScenario } from "./plan-equals-act/container-image.js";
import { ecsTaskScenario } from "./plan-equals-act/ecs-task.js";
import { instanceScenario } from "./plan-equals-act/instance.js";
import { createCallRecorder, type CallRecorder } from "./plan-equals-act/recorder.js";
import type { Scenario, StepRun } from "./plan-equals-act/scenario.js";

const SCENARIOS: readonly Scenario[] = [instanceScenario, accessKeyScenario, containerImageScenario, ecsTaskScenario];
const RAN = ["succeeded", "skipped", "unavailable", "verified"];

let world: EngineWorld;
let recorder: CallRecorder;
const runs: StepRun[] = [];

beforeAll(async () => {
  world = await createEngineWorld();
  recorder = createCallRecorder(world.db);
});

afterAll(async () => {
  await world.close();
});

describe("plan equals act", () => {
  for (const scenario of SCENARIOS) {
    it(`${scenario.playbook}: every step sends exactly the calls of the plan that was approved`, async () => {
      const ran = await scenario.run({ world, recorder });
      runs.push(...ran);
      for (const run of ran) {
        const label = `${run.playbook} ${run.step} (remediation ${run.remediationId})`;
        expect(RAN, `${label} did not run`).toContain(run.status);
        const compared = compareToPlan(run.planned, run.sent);
        expect({ step: run.step, calls: compared.sent, problems: compared.problems }, label).toEqual({ step: run.step, calls: run.planned, problems: [] });
      }
      // Every changing call was sent by a step of a scenario's remediation (none outside a step);
      // the recorder holds the earlier scenarios' calls too, attributed to their runs.
      const attributed = new Set(runs.map((r) => `${r.remediationId}:${r.step}`));
      expect(recorder.calls.filter((c) => !attributed.has(`${c.remediationId ?? "-"}:${c.step ?? "-"}`))).toEqual([]);
    }, 240_000);
  }

  it("covers every step of every playbook the worker runs", () => {
    // Every optional step on (terminate), so that none escapes the comparison.
    const registry = createPlaybookRegistry({ instanceTerminate: true, exemptTag: { ...DEFAULT_EXEMPT_TAG } });
    const covered = new Set(runs.filter((r) => RAN.includes(r.status)).map((r) => `${r.playbook}:${r.step}`));
    const missing = [...registry.values()].flatMap((playbook) =>
      [...playbook.steps, ...playbook.release].map((s) => `${playbook.name}:${s.name}`).filter((name) => !covered.has(name)),
    );
    expect(missing).toEqual([]);
    // The comparison saw real work, not only empty plans.
    expect(runs.some((r) => r.sent.length > 0)).toBe(true);
  });
});
