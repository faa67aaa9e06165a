// Step 1: read the instance and everything around it once, before anything changes: the pre-state
// release restores from, the skip decisions (gone, terminated), and the exemption tag, which
// holds the remediation for a person (holdFor) rather than skipping it.
import type { Step } from "../../engine/step.js";
import { STEP } from "./shared/names.js";
import { collectPreState, parsePreState, preStateSchema } from "./shared/pre-state.js";
import { DEFAULT_EXEMPT_TAG, type TagPair } from "./shared/tags.js";

export function createIdentifyStep(exemptTag: TagPair = DEFAULT_EXEMPT_TAG): Step {
  return {
    name: STEP.identify,
    destructive: false,
    // Only reads: it runs before an approval plan is frozen, so the plan is built from live state.
    readOnly: true,
    output: preStateSchema,

    // The pre-state is taken once: a re-run after isolation must not record the isolated state
    // as the state to go back to.
    check(ctx) {
      const previous = ctx.outputs.get(STEP.identify);
      if (previous === undefined) return Promise.resolve({ done: false });
      parsePreState(previous); // refuse a malformed record rather than build on it
      return Promise.resolve({ done: true, output: previous });
    },

    async act(ctx) {
      return collectPreState(ctx, exemptTag);
    },

    async verify() {
      // Nothing changed in AWS: act only read.
    },

    // The exemption tag read from the live instance never means "do nothing": anything that runs
    // on a compromised instance with its role may be able to tag it. It turns automatic
    // containment into an approval request, with the reason in the plan and the notification.
    holdFor(output) {
      const recorded = typeof output === "object" && output !== null && !Array.isArray(output) ? output["exemptTag"] : undefined;
      if (typeof recorded !== "object" || recorded === null || Array.isArray(recorded)) return null;
      const { key, value } = recorded;
      if (typeof key !== "string" || typeof value !== "string") return null;
      return `the live instance carries the exemption tag ${key}=${value}; a workload can tag itself, so containment waits for a person instead of being skipped`;
    },
  };
}

/** identify with the policy's default exemption tag. */
export const identify: Step = createIdentifyStep();
