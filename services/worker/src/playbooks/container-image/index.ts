// The compromised-image playbook (container-image): a finding whose malicious file came with the
// container image itself. It finds where the image is and everything that uses it, scans it, and,
// behind one approval, takes it out of use and out of ECR. See README.md for the steps and why.
import type { Playbook } from "../../engine/step.js";
import { familiesOf } from "../kit/families.js";
import { resolveImage } from "./01-resolve-image.js";
import { createFindUsersStep } from "./02-find-users.js";
import { scanImage } from "./03-scan-image.js";
import { removeImage } from "./04-remove-image.js";
import { DEFAULT_BOUNDS, type HuntBounds } from "./bounds.js";

export interface ContainerImagePlaybookOptions {
  /** How far the hunt for users goes before it escalates (bounds.ts). */
  bounds?: HuntBounds;
}

export function containerImagePlaybook(options: ContainerImagePlaybookOptions = {}): Playbook {
  return {
    name: "container-image",
    steps: [resolveImage, createFindUsersStep(options.bounds ?? DEFAULT_BOUNDS), scanImage, removeImage],
    // Nothing to undo: a deleted image and stopped tasks do not come back, and the task's own
    // remediation (ecs-task) is what isolates and releases the workload.
    release: [],
    // No containment step: this playbook finds, records and (behind approval) removes; the task
    // that ran the image is contained by its own remediation beside this one.
    containment: [],
    isolates: false,
    families: familiesOf(["ecs-read", "ecs-write", "ecr-read", "ecr-write"]),
  };
}
