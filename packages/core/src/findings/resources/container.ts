import type { FindingResourceDetail } from "../finding-schema.js";
import type { IdentifierChecker } from "../identifiers.js";
import { CONTAINER_ID, CONTAINER_NAME, CONTAINER_RUNTIME, IMAGE_REFERENCE, INSTANCE_ID } from "../patterns.js";
import type { ContainerResource } from "../types.js";
import { digestOf, opt, type Mapped } from "./shared.js";

/**
 * resourceType "Container": a container Runtime Monitoring saw on an EC2 host outside EKS/ECS.
 * resource.containerDetails describes it, resource.instanceDetails the host. At least one of the
 * container id, the image digest or the image must be known.
 */
export function mapContainer(
  resource: FindingResourceDetail,
  ids: IdentifierChecker,
  path: string,
): Mapped<ContainerResource> {
  const details = resource.containerDetails;
  const base = `${path}.containerDetails`;
  const containerId = ids.optional(details?.id, CONTAINER_ID, `${base}.id`);
  const image = ids.optional(details?.image, IMAGE_REFERENCE, `${base}.image`);
  const runtime = ids.optional(details?.containerRuntime, CONTAINER_RUNTIME, `${base}.containerRuntime`);
  const hostPath = `${path}.instanceDetails.instanceId`;
  const instanceId = ids.optional(resource.instanceDetails?.instanceId, INSTANCE_ID, hostPath);
  if (containerId === undefined && image === undefined) return { ok: false, missing: `${base}.id` };
  return {
    ok: true,
    resource: {
      type: "Container",
      ...opt("containerId", containerId),
      ...opt("containerName", ids.optional(details?.name, CONTAINER_NAME, `${base}.name`)),
      ...opt("image", image),
      ...opt("imageDigest", digestOf(image)),
      ...opt("containerRuntime", runtime),
      ...opt("instanceId", instanceId),
    },
  };
}
