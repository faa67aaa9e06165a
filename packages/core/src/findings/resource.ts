import { preview } from "./describe.js";
import { FindingRejection } from "./errors.js";
import type { FindingResourceDetail } from "./finding-schema.js";
import type { IdentifierChecker } from "./identifiers.js";
import { RESOURCE_TYPE } from "./patterns.js";
import { mapAccessKey } from "./resources/access-key.js";
import { mapContainer } from "./resources/container.js";
import { mapEcsCluster } from "./resources/ecs.js";
import { mapEksCluster } from "./resources/eks.js";
import { mapInstance } from "./resources/instance.js";
import type { ResourceMapper } from "./resources/shared.js";
import { SUPPORTED_RESOURCE_TYPES, type FindingResource, type SupportedResourceType } from "./types.js";

const MAPPERS: Record<SupportedResourceType, ResourceMapper> = {
  Instance: mapInstance,
  EKSCluster: mapEksCluster,
  ECSCluster: mapEcsCluster,
  Container: mapContainer,
  AccessKey: mapAccessKey,
};

function isSupported(resourceType: string): resourceType is SupportedResourceType {
  return (SUPPORTED_RESOURCE_TYPES as readonly string[]).includes(resourceType);
}

export interface MappedResource {
  resource: FindingResource;
  resourceKey: string | null;
}

/**
 * Maps `detail.resource` to the FindingResource union.
 *
 * - Unknown resource types (S3Bucket, RDSDBInstance, Lambda, ...) become `Other` with a null key;
 *   policy routing ignores them.
 * - A supported type without its required identifier rejects a real finding (`invalid_finding`).
 *   A sample finding whose placeholders left no usable identifier becomes `Other` instead.
 */
export function mapResource(detail: FindingResourceDetail, ids: IdentifierChecker): MappedResource {
  const path = "detail.resource";
  const { resourceType } = detail;
  if (!RESOURCE_TYPE.regex.test(resourceType)) {
    throw new FindingRejection(
      "invalid_finding",
      `${path}.resourceType is ${preview(resourceType)}, expected ${RESOURCE_TYPE.label}`,
    );
  }
  if (!isSupported(resourceType)) return { resource: { type: "Other", resourceType }, resourceKey: null };

  const mapped = MAPPERS[resourceType](detail, ids, path);
  if (!mapped.ok) {
    if (ids.lenient) return { resource: { type: "Other", resourceType }, resourceKey: null };
    throw new FindingRejection("invalid_finding", `${resourceType} finding has no usable ${mapped.missing}`);
  }
  const resourceKey = resourceKeyOf(mapped.resource);
  if (resourceKey === null) {
    throw new FindingRejection("invalid_finding", `${resourceType} finding names no resource to act on`);
  }
  return { resource: mapped.resource, resourceKey };
}

/**
 * The stable key of the affected resource, used in the dedup key "one remediation per finding and
 * resource" and in job ids. It names the narrowest thing a playbook acts on:
 *
 * - Instance: the instance id.
 * - EKSCluster: `<cluster>/<namespace>/<pod>` when GuardDuty names the pod, else `<cluster>`
 *   (cluster-level findings, or workloads other than pods).
 * - ECSCluster: the task ARN when known, else the cluster ARN.
 * - Container: the container id, else the image digest, else the image reference.
 * - AccessKey: the access key id, else `<userType>/<userName>`, else the principal id.
 * - Other: null.
 *
 * Keys can contain ':' (ARNs, digests, image tags): whoever builds a BullMQ job id from one must
 * encode it.
 */
export function resourceKeyOf(resource: FindingResource): string | null {
  switch (resource.type) {
    case "Instance":
      return resource.instanceId;
    case "EKSCluster":
      return resource.namespace !== undefined && resource.podName !== undefined
        ? `${resource.clusterName}/${resource.namespace}/${resource.podName}`
        : resource.clusterName;
    case "ECSCluster":
      return resource.taskArn ?? resource.clusterArn;
    case "Container":
      return resource.containerId ?? resource.imageDigest ?? resource.image ?? null;
    case "AccessKey":
      if (resource.accessKeyId !== undefined) return resource.accessKeyId;
      if (resource.userType !== undefined && resource.userName !== undefined) {
        return `${resource.userType}/${resource.userName}`;
      }
      return resource.principalId ?? null;
    case "Other":
      return null;
  }
}
