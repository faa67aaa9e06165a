// What a playbook acts on for a finding: its resource key, in the playbook's own terms. Most
// playbooks act on the finding's resource (the instance, the task, the key). The container-image
// playbook acts on the image the finding's workload runs, which the finding names in its
// containers: that is a remediation of its own, keyed by the image reference, beside the task's.
import type { PlaybookName } from "../queues/playbooks.js";
import type { ContainerRef, ParsedFinding } from "./types.js";

/** The images a finding's workload runs, distinct, as the finding names them (validated references). */
export function imagesOf(finding: Pick<ParsedFinding, "resource">): string[] {
  const r = finding.resource;
  let containers: readonly ContainerRef[] = [];
  if (r.type === "ECSCluster" || r.type === "EKSCluster") containers = r.containers;
  else if (r.type === "Container") containers = [{ ...(r.image === undefined ? {} : { image: r.image }) }];
  return [...new Set(containers.flatMap((c) => (c.image === undefined ? [] : [c.image])))].sort();
}

export type TargetKey = { ok: true; key: string } | { ok: false; reason: string };

/**
 * The resource key of the remediation `playbook` would run for this finding, or why there is none.
 * An image remediation needs exactly one image: a task of several containers with different images
 * does not say which one carried the file, and deleting the wrong image breaks a workload that
 * did nothing wrong, so that case is for a person.
 */
export function targetKeyOf(finding: Pick<ParsedFinding, "resource" | "resourceKey">, playbook: PlaybookName): TargetKey {
  if (playbook !== "container-image") {
    return finding.resourceKey === null ? { ok: false, reason: "the finding names no resource to act on" } : { ok: true, key: finding.resourceKey };
  }
  const images = imagesOf(finding);
  const [only] = images;
  if (images.length === 1 && only !== undefined) return { ok: true, key: only };
  if (images.length === 0) return { ok: false, reason: "the finding names no container image" };
  return { ok: false, reason: `the workload runs ${images.length} images (${images.join(", ")}) and the finding does not say which one carried the file` };
}
