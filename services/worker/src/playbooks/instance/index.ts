// The Instance playbook (EC2 instances and EKS nodes, GuardDuty resource type Instance), after
// AWS's guidance for a potentially compromised instance. See README.md for the order and why.
import type { Playbook, Step } from "../../engine/step.js";
import { createIdentifyStep } from "./01-identify.js";
import { leaveAutoScaling } from "./02-leave-auto-scaling.js";
import { isolate } from "./03-isolate.js";
import { protectEvidence } from "./04-protect-evidence.js";
import { leaveTargetGroups } from "./05-leave-target-groups.js";
import { tag } from "./06-tag.js";
import { snapshotVolumes } from "./07-snapshot-volumes.js";
import { malwareScan } from "./08-malware-scan.js";
import { verifyIsolation } from "./09-verify.js";
import { terminate } from "./10-terminate.js";
import { exitStandby } from "./release/exit-standby.js";
import { reregisterTargets } from "./release/reregister-targets.js";
import { restoreGroups } from "./release/restore-groups.js";
import { tagReleased } from "./release/tag-released.js";
import { INSTANCE_FAMILIES } from "./families.js";
import { STEP } from "./shared/names.js";
import { DEFAULT_EXEMPT_TAG, type TagPair } from "./shared/tags.js";

export interface InstancePlaybookOptions {
  /** Adds the destructive terminate step (it waits at the approval gate). */
  terminate: boolean;
  /** The exemption tag from the policy file; the policy's default when not given. */
  exemptTag?: TagPair | undefined;
}

export function instancePlaybook(options: InstancePlaybookOptions): Playbook {
  const steps: Step[] = [
    createIdentifyStep(options.exemptTag ?? DEFAULT_EXEMPT_TAG),
    leaveAutoScaling,
    isolate,
    protectEvidence,
    leaveTargetGroups,
    tag,
    snapshotVolumes,
    malwareScan,
    verifyIsolation,
  ];
  if (options.terminate) steps.push(terminate);
  return {
    name: "instance",
    steps,
    release: [restoreGroups, exitStandby, reregisterTargets, tagReleased],
    // Contained once every interface is in its VPC's isolation group: evidence work follows.
    containment: [STEP.isolate],
    // Isolation takes instances off the network: the per-minute isolation cap applies.
    isolates: true,
    families: INSTANCE_FAMILIES,
  };
}
