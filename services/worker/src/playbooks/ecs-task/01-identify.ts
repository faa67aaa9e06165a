// Step 1: read the task and everything around it once, before anything changes (pre-state.ts):
// the task definition's network mode and images, the launch type, the owning service and its
// load balancers, the task ENI, the container instance and its EC2 host. A task ECS does not know
// ends the remediation `skipped` (resource_gone); a task already stopped ends it `skipped` with
// when and why it stopped. The exemption tag holds the remediation for a person (holdFor).
import type { Step } from "../../engine/step.js";
import { STEP } from "./names.js";
import { collectPreState, parsePreState, preStateSchema } from "./pre-state.js";
import { DEFAULT_EXEMPT_TAG, type TagPair } from "./tags.js";

export function createIdentifyStep(exemptTag: TagPair = DEFAULT_EXEMPT_TAG): Step {
  return {
    name: STEP.identify,
    destructive: false,
    // Only reads: it runs before an approval plan is frozen, so the plan is built from live state.
    readOnly: true,
    output: preStateSchema,

    // Taken once: a re-run after isolation must not record the isolated groups as the ones to restore.
    check(ctx) {
      const previous = ctx.outputs.get(STEP.identify);
      if (previous === undefined) return Promise.resolve({ done: false });
      parsePreState(previous);
      return Promise.resolve({ done: true, output: previous });
    },

    async act(ctx) {
      return collectPreState(ctx, exemptTag);
    },

    async verify() {
      // Nothing changed in AWS: act only read.
    },

    // A task can tag itself (its task role may allow ecs:TagResource): the exemption tag on the
    // live task turns automatic containment into an approval request, never into a skip.
    holdFor(output) {
      const recorded = typeof output === "object" && output !== null && !Array.isArray(output) ? output["exemptTag"] : undefined;
      if (typeof recorded !== "object" || recorded === null || Array.isArray(recorded)) return null;
      const { key, value } = recorded;
      if (typeof key !== "string" || typeof value !== "string") return null;
      return `the live task carries the exemption tag ${key}=${value}; a workload can tag itself, so containment waits for a person instead of being skipped`;
    },
  };
}
