import type { FindingResourceDetail } from "../finding-schema.js";
import type { IdentifierChecker } from "../identifiers.js";
import {
  EKS_CLUSTER_ARN,
  EKS_CLUSTER_NAME,
  INSTANCE_ID,
  K8S_NAME,
  K8S_NAMESPACE,
  K8S_UID,
  K8S_WORKLOAD_TYPE,
} from "../patterns.js";
import type { EksClusterResource } from "../types.js";
import { mapContainers, opt, type Mapped } from "./shared.js";

/** GuardDuty reports a pod workload with type "pods" (Kubernetes resource name); accept "Pod" too. */
const POD_KIND = /^pods?$/i;

/**
 * resourceType "EKSCluster": resource.eksClusterDetails (the cluster), resource.kubernetesDetails
 * .kubernetesWorkloadDetails (the workload: for Runtime Monitoring findings, the pod), and for
 * Runtime Monitoring also resource.instanceDetails (the node). The cluster name is required; it
 * falls back to the name inside the cluster ARN.
 */
export function mapEksCluster(
  resource: FindingResourceDetail,
  ids: IdentifierChecker,
  path: string,
): Mapped<EksClusterResource> {
  const cluster = resource.eksClusterDetails;
  const base = `${path}.eksClusterDetails`;
  let arn = ids.optionalArn(cluster?.arn, EKS_CLUSTER_ARN, `${base}.arn`);
  const name = ids.optional(cluster?.name, EKS_CLUSTER_NAME, `${base}.name`);
  const arnName = arn?.groups["clusterName"];
  if (name !== undefined && arnName !== undefined) {
    const agree = ids.consistent(name === arnName, `${base}.name and ${base}.arn name different clusters`);
    if (!agree) arn = undefined;
  }
  const clusterName = name ?? arnName;
  if (clusterName === undefined) return { ok: false, missing: `${base}.name` };

  const workload = resource.kubernetesDetails?.kubernetesWorkloadDetails;
  const wbase = `${path}.kubernetesDetails.kubernetesWorkloadDetails`;
  const kind = ids.optional(workload?.type, K8S_WORKLOAD_TYPE, `${wbase}.type`);
  const workloadName = ids.optional(workload?.name, K8S_NAME, `${wbase}.name`);
  const uid = ids.optional(workload?.uid, K8S_UID, `${wbase}.uid`);
  const isPod = kind !== undefined && POD_KIND.test(kind);
  const nodePath = `${path}.instanceDetails.instanceId`;
  const nodeInstanceId = ids.optional(resource.instanceDetails?.instanceId, INSTANCE_ID, nodePath);
  return {
    ok: true,
    resource: {
      type: "EKSCluster",
      clusterName,
      ...opt("clusterArn", arn?.arn),
      ...opt("namespace", ids.optional(workload?.namespace, K8S_NAMESPACE, `${wbase}.namespace`)),
      ...opt("podName", isPod ? workloadName : undefined),
      ...opt("podUid", isPod ? uid : undefined),
      ...opt("workloadKind", kind),
      ...opt("workloadName", workloadName),
      ...opt("nodeInstanceId", nodeInstanceId),
      containers: mapContainers(workload?.containers, ids, `${wbase}.containers`),
    },
  };
}
