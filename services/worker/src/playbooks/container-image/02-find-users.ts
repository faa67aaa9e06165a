// Step 2 (read-only): every user of the image, from live ECS state, before anything is frozen:
// the approver's plan names exactly these tasks and task definitions, and the services that
// point at them. It runs for every image, in any registry: a task keeps running what it pulled
// whether or not the image can still be deleted.
import type { Step } from "../kit/index.js";
import { DEFAULT_BOUNDS, type HuntBounds } from "./bounds.js";
import { huntUsers } from "./hunt.js";
import { STEP } from "./names.js";
import { resolvedOf, targetOf } from "./target.js";
import { usersSchema } from "./users.js";

export function createFindUsersStep(bounds: HuntBounds = DEFAULT_BOUNDS): Step {
  return {
    name: STEP.findUsers,
    destructive: false,
    readOnly: true,
    output: usersSchema,

    check() {
      return Promise.resolve({ done: false });
    },

    async act(ctx) {
      return huntUsers(ctx, targetOf(resolvedOf(ctx)), bounds);
    },

    async verify() {
      // Nothing changed: act only read.
    },
  };
}
