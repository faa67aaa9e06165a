import type { FindingResourceDetail, TagDetail } from "./finding-schema.js";
import type { Tag } from "./types.js";

/**
 * The tags GuardDuty reported on the affected resource and the resources it runs on: the instance
 * (instanceDetails.tags: the instance itself, an EKS node or a container host), the EKS cluster,
 * the ECS cluster and the ECS task. They are merged, so an exemption tag on any of them exempts the
 * finding; duplicates (same key and value) are kept once. Lengths and counts are capped by the
 * schema; missing values become "".
 */
export function collectTags(resource: FindingResourceDetail): Tag[] {
  const sources: (readonly TagDetail[] | null | undefined)[] = [
    resource.instanceDetails?.tags,
    resource.eksClusterDetails?.tags,
    resource.ecsClusterDetails?.tags,
    resource.ecsClusterDetails?.taskDetails?.tags,
  ];
  const seen = new Set<string>();
  const out: Tag[] = [];
  for (const list of sources) {
    for (const { key, value } of list ?? []) {
      const tag = { key, value: value ?? "" };
      const id = JSON.stringify([tag.key, tag.value]);
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(tag);
    }
  }
  return out;
}
