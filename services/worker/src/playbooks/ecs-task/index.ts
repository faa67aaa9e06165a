// The ECS task playbook (GuardDuty resource type ECSCluster with a task), after AWS's guidance for
// a potentially compromised workload: identify, keep the evidence from being replaced, cut the
// task off, keep evidence, and (a person approving) stop it. See README.md for the order and why.
import type { Playbook } from "../../engine/step.js";
import { createIdentifyStep } from "./01-identify.js";
import { protectTask } from "./02-protect-task.js";
import { leaveLoadBalancers } from "./03-leave-load-balancers.js";
import { isolate } from "./04-isolate.js";
import { tag } from "./05-tag.js";
import { snapshotHostVolumes } from "./06-snapshot-host-volumes.js";
import { verifyContainment } from "./07-verify.js";
import { stopTask } from "./08-stop-task.js";
import { drainHost } from "./09-drain-host.js";
import { ECS_TASK_FAMILIES } from "./families.js";
import { STEP } from "./names.js";
import { removeProtection } from "./release/remove-protection.js";
import { reregisterTargets } from "./release/reregister-targets.js";
import { restoreGroups } from "./release/restore-groups.js";
import { DEFAULT_EXEMPT_TAG, type TagPair } from "./tags.js";

export interface EcsTaskPlaybookOptions {
  /** The exemption tag from the policy file; the policy's default when not given. */
  exemptTag?: TagPair | undefined;
}

export function ecsTaskPlaybook(options: EcsTaskPlaybookOptions = {}): Playbook {
  return {
    name: "ecs-task",
    steps: [
      createIdentifyStep(options.exemptTag ?? DEFAULT_EXEMPT_TAG),
      protectTask,
      leaveLoadBalancers,
      isolate,
      tag,
      snapshotHostVolumes,
      verifyContainment,
      stopTask,
      drainHost,
    ],
    release: [restoreGroups, removeProtection, reregisterTargets],
    // Contained once the task ENI is on its VPC's containment group: evidence work follows.
    containment: [STEP.isolate],
    // When isolation cannot be done (AWS refuses changing the ECS-managed ENI, or the task shares
    // its host's network), stopping the task is the containment left, offered to a person.
    fallbacks: { [STEP.isolate]: STEP.stopTask },
    // Isolation takes the task off the network: the per-minute isolation cap applies.
    isolates: true,
    families: ECS_TASK_FAMILIES,
  };
}
