// Step 1: read the task and everything around it once, before anything changes (pre-state.ts):
// the task definition's network mode and images, the launch type, the owning service and its
// load balancers, the task ENI, the container instance and its EC2 host. A task ECS does not know
// ends the remediation `skipped` (resource_gone); a task already stopped ends it `skipped` with
// when and why it stopped. A task can tag itself (its task role may allow ecs:TagResource): the
// exemption tag holds the remediation for a person (kit/identify-step.ts).
import type { Step } from "../../engine/step.js";
import { identifyStep } from "../kit/identify-step.js";
import { STEP } from "./names.js";
import { collectPreState, parsePreState, preStateSchema } from "./pre-state.js";
import { DEFAULT_EXEMPT_TAG, type TagPair } from "./tags.js";

export function createIdentifyStep(exemptTag: TagPair = DEFAULT_EXEMPT_TAG): Step {
  return identifyStep({
    name: STEP.identify,
    what: "task",
    output: preStateSchema,
    parse: parsePreState,
    collect: (ctx) => collectPreState(ctx, exemptTag),
  });
}
