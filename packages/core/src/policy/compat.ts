import type { SupportedResourceType } from "../findings/types.js";
import type { PlaybookName } from "../queues/playbooks.js";

/**
 * Which resource types each playbook can act on. A policy rule that names a playbook must limit
 * itself (match.resourceTypes) to types in its row; the loader rejects anything else, so a
 * routing decision never hands a playbook a resource it cannot handle.
 */
export const PLAYBOOK_RESOURCE_TYPES: Readonly<Record<PlaybookName, readonly SupportedResourceType[]>> = Object.freeze({
  instance: Object.freeze(["Instance"] as const),
  "ecs-task": Object.freeze(["ECSCluster"] as const),
  "eks-pod": Object.freeze(["EKSCluster"] as const),
  container: Object.freeze(["Container"] as const),
  // A flagged image can be running as an ECS task, an EKS pod or a standalone container.
  "container-image": Object.freeze(["ECSCluster", "EKSCluster", "Container"] as const),
  "access-key": Object.freeze(["AccessKey"] as const),
});

export function playbookFits(playbook: PlaybookName, resourceType: SupportedResourceType): boolean {
  return PLAYBOOK_RESOURCE_TYPES[playbook].includes(resourceType);
}
