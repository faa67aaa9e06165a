// Step 2 (read-only): every user of the image, from live ECS state, before anything is frozen:
// the approver's plan names exactly these tasks and task definitions, and the services that
// point at them. It runs for every image, in any registry: a task keeps running what it pulled
// whether or not the image can still be deleted.
import { SkipRemediation, type Step } from "../kit/index.js";
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
    // Up to thousands of ECS reads: GuardDuty confirms the finding first (a forged message must
    // not spend the ecs-read budget that real task containment needs).
    confirmFirst: true,
    output: usersSchema,

    check() {
      return Promise.resolve({ done: false });
    },

    async act(ctx) {
      const resolved = resolvedOf(ctx);
      const users = await huntUsers(ctx, targetOf(resolved), bounds);
      // Nothing this service can remove: no user, and no image it can delete. Ending here spares a
      // person approving an empty plan (every later finding on an image already removed, one per
      // task, would otherwise ask for one).
      if (resolved.status !== "found" && users.tasks.length === 0 && users.taskDefinitions.length === 0) {
        const searched = `${users.clustersSearched} clusters, ${users.tasksSearched} running tasks and ${users.taskDefinitionsSearched} ACTIVE task definitions searched`;
        throw new SkipRemediation("resource_gone", `nothing left to remove: ${resolved.reason ?? `the image is ${resolved.status}`}, and no running task or ACTIVE task definition uses it (${searched})`);
      }
      return users;
    },

    async verify() {
      // Nothing changed: act only read.
    },
  };
}
