import type { FindingResourceDetail, TagDetail } from "../finding-schema.js";
import { FindingRejection } from "../errors.js";
import type { IdentifierChecker } from "../identifiers.js";
import {
  EKS_CLUSTER_NAME,
  IMAGE_ID,
  INSTANCE_ID,
  NETWORK_INTERFACE_ID,
  SECURITY_GROUP_ID,
  SUBNET_ID,
  VPC_ID,
} from "../patterns.js";
import type { InstanceResource, NetworkInterfaceRef } from "../types.js";
import { opt, type Mapped } from "./shared.js";

/**
 * Tags EKS puts on its worker nodes (managed node groups set both). Their values are free text
 * under the customer's control, not a GuardDuty identifier field, so a value that is not a valid
 * cluster name is ignored rather than rejecting the finding.
 */
const EKS_NODE_TAGS = ["eks:cluster-name", "aws:eks:cluster-name"];

/** resourceType "Instance": resource.instanceDetails. The instance id is required. */
export function mapInstance(
  resource: FindingResourceDetail,
  ids: IdentifierChecker,
  path: string,
): Mapped<InstanceResource> {
  const details = resource.instanceDetails;
  const base = `${path}.instanceDetails`;
  const instanceId = ids.optional(details?.instanceId, INSTANCE_ID, `${base}.instanceId`);
  if (instanceId === undefined) return { ok: false, missing: `${base}.instanceId` };
  const networkInterfaces = mapNetworkInterfaces(details?.networkInterfaces, ids, `${base}.networkInterfaces`);
  const primary = networkInterfaces[0];
  return {
    ok: true,
    resource: {
      type: "Instance",
      instanceId,
      networkInterfaces,
      ...opt("vpcId", primary?.vpcId),
      ...opt("subnetId", primary?.subnetId),
      ...opt("imageId", ids.optional(details?.imageId, IMAGE_ID, `${base}.imageId`)),
      ...opt("eksClusterName", eksClusterFromTags(details?.tags)),
    },
  };
}

type NetworkInterfaceDetails = NonNullable<NonNullable<FindingResourceDetail["instanceDetails"]>["networkInterfaces"]>;

/**
 * Every ENI with its security groups: isolation replaces each ENI's groups, so an ENI without an
 * id makes a real finding unusable. Security group entries without a groupId are skipped.
 */
function mapNetworkInterfaces(
  list: NetworkInterfaceDetails | null | undefined,
  ids: IdentifierChecker,
  path: string,
): NetworkInterfaceRef[] {
  const out: NetworkInterfaceRef[] = [];
  (list ?? []).forEach((eni, i) => {
    const at = `${path}[${i}]`;
    const networkInterfaceId = ids.optional(eni.networkInterfaceId, NETWORK_INTERFACE_ID, `${at}.networkInterfaceId`);
    if (networkInterfaceId === undefined) {
      if (ids.lenient) return;
      throw new FindingRejection("invalid_finding", `${at}.networkInterfaceId is missing`);
    }
    const securityGroupIds: string[] = [];
    (eni.securityGroups ?? []).forEach((sg, j) => {
      const groupId = ids.optional(sg.groupId, SECURITY_GROUP_ID, `${at}.securityGroups[${j}].groupId`);
      if (groupId !== undefined) securityGroupIds.push(groupId);
    });
    out.push({
      networkInterfaceId,
      securityGroupIds,
      ...opt("vpcId", ids.optional(eni.vpcId, VPC_ID, `${at}.vpcId`)),
      ...opt("subnetId", ids.optional(eni.subnetId, SUBNET_ID, `${at}.subnetId`)),
    });
  });
  return out;
}

function eksClusterFromTags(tags: readonly TagDetail[] | null | undefined): string | undefined {
  for (const key of EKS_NODE_TAGS) {
    const value = tags?.find((t) => t.key === key)?.value;
    if (typeof value === "string" && EKS_CLUSTER_NAME.regex.test(value)) return value;
  }
  return undefined;
}
