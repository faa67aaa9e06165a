// Release 4: the instance's state tag says it is no longer isolated; the finding and remediation
// tags stay, as a record of what happened to it.
import type { Step } from "../../../engine/step.js";
import { tagStep } from "../06-tag.js";
import { STEP } from "../shared/names.js";
import { STATE_RELEASED } from "../shared/tags.js";

export const tagReleased: Step = tagStep(STEP.tagReleased, STATE_RELEASED);
