import type { FindingResourceDetail } from "../finding-schema.js";
import type { IdentifierChecker } from "../identifiers.js";
import { ECS_CLUSTER_ARN, ECS_CLUSTER_NAME, ECS_TASK_ARN, ECS_TASK_DEFINITION_ARN } from "../patterns.js";
import type { EcsClusterResource } from "../types.js";
import { mapContainers, opt, type Mapped } from "./shared.js";

/**
 * resourceType "ECSCluster": resource.ecsClusterDetails (the cluster) and its taskDetails (the task
 * Runtime Monitoring saw, with its containers). The cluster ARN is required; when GuardDuty reports
 * only the name, the ARN is built from the finding's own (validated) partition, region and account.
 */
export function mapEcsCluster(
  resource: FindingResourceDetail,
  ids: IdentifierChecker,
  path: string,
): Mapped<EcsClusterResource> {
  const cluster = resource.ecsClusterDetails;
  const base = `${path}.ecsClusterDetails`;
  let arn = ids.optionalArn(cluster?.arn, ECS_CLUSTER_ARN, `${base}.arn`);
  const name = ids.optional(cluster?.name, ECS_CLUSTER_NAME, `${base}.name`);
  const arnName = arn?.groups["clusterName"];
  if (name !== undefined && arnName !== undefined) {
    if (!ids.consistent(name === arnName, `${base}.name and ${base}.arn name different clusters`)) arn = undefined;
  }
  const clusterName = name ?? arnName;
  const { partition, region, accountId } = ids.scope;
  const derivedArn =
    clusterName === undefined ? undefined : `arn:${partition}:ecs:${region}:${accountId}:cluster/${clusterName}`;
  const clusterArn = arn?.arn ?? derivedArn;
  if (clusterArn === undefined) return { ok: false, missing: `${base}.arn` };

  const task = cluster?.taskDetails;
  const tbase = `${base}.taskDetails`;
  let taskArn = ids.optionalArn(task?.arn, ECS_TASK_ARN, `${tbase}.arn`);
  // Current task ARNs name their cluster; a task "in" another cluster would send StopTask elsewhere.
  const taskCluster = taskArn?.groups["clusterName"];
  if (taskCluster !== undefined && clusterName !== undefined) {
    if (!ids.consistent(taskCluster === clusterName, `${tbase}.arn belongs to a different cluster than ${base}`)) {
      taskArn = undefined;
    }
  }
  const taskDefinition = ids.optionalArn(task?.definitionArn, ECS_TASK_DEFINITION_ARN, `${tbase}.definitionArn`);
  return {
    ok: true,
    resource: {
      type: "ECSCluster",
      clusterArn,
      ...opt("clusterName", clusterName),
      ...opt("taskArn", taskArn?.arn),
      ...opt("taskDefinitionArn", taskDefinition?.arn),
      containers: mapContainers(task?.containers, ids, `${tbase}.containers`),
    },
  };
}
