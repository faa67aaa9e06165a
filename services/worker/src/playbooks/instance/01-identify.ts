// Step 1: read the instance and everything around it once, before anything changes: the pre-state
// release restores from, the skip decisions (gone, terminated), and the exemption tag, which
// holds the remediation for a person (kit/identify-step.ts) rather than skipping it.
import type { Step } from "../../engine/step.js";
import { identifyStep } from "../kit/identify-step.js";
import { STEP } from "./shared/names.js";
import { collectPreState, parsePreState, preStateSchema } from "./shared/pre-state.js";
import { DEFAULT_EXEMPT_TAG, type TagPair } from "./shared/tags.js";

export function createIdentifyStep(exemptTag: TagPair = DEFAULT_EXEMPT_TAG): Step {
  return identifyStep({
    name: STEP.identify,
    what: "instance",
    output: preStateSchema,
    parse: parsePreState,
    collect: (ctx) => collectPreState(ctx, exemptTag),
  });
}
