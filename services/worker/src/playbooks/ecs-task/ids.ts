// The identifiers this playbook hands to ECS, EC2 and ELBv2: core's patterns, and the few core has
// no use for. The task and its cluster come from the resource key (the task ARN), checked first.
import {
  ACCOUNT_ID,
  ECS_CLUSTER_ARN,
  ECS_CLUSTER_NAME,
  ECS_TASK_ARN,
  ECS_TASK_DEFINITION_ARN,
  INSTANCE_ID,
  NETWORK_INTERFACE_ID,
  REGION,
  SECURITY_GROUP_ID,
  TARGET_GROUP_ARN,
  VPC_ID,
  type IdentifierPattern,
} from "@gdr/core/findings/patterns";
import { EscalateRemediation, type StepContext } from "../../engine/step.js";
import { expectId, resourceKeyAs } from "../kit/ids.js";
import { clusterOfFinding } from "./finding-details.js";

export { ECS_CLUSTER_ARN, ECS_CLUSTER_NAME, ECS_TASK_ARN, ECS_TASK_DEFINITION_ARN, INSTANCE_ID, NETWORK_INTERFACE_ID, SECURITY_GROUP_ID, TARGET_GROUP_ARN, VPC_ID };
export { expectId };

// Container instance ARNs: container-instance/<cluster>/<32 hex id>, or the older container-instance/<uuid>.
export const CONTAINER_INSTANCE_ARN: IdentifierPattern = {
  label: "an ECS container instance ARN",
  regex:
    /^arn:aws(?:-cn|-us-gov|-iso(?:-[bef])?|-eusc)?:ecs:[a-z]{2,4}(?:-[a-z]{2,10}){1,2}-[0-9]{1,2}:[0-9]{12}:container-instance\/(?:[A-Za-z0-9_-]{1,255}\/)?(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/,
};
// Service names: letters, digits, hyphens and underscores, up to 255 (ECS CreateService).
export const ECS_SERVICE_NAME: IdentifierPattern = { label: "an ECS service name", regex: /^[A-Za-z0-9_-]{1,255}$/ };
export const IPV4_ADDRESS: IdentifierPattern = {
  label: "an IPv4 address",
  regex: /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/,
};
export const VOLUME_ID: IdentifierPattern = { label: "an EBS volume id (vol-...)", regex: /^vol-(?:[0-9a-f]{8}|[0-9a-f]{17})$/ };

export interface TaskRef {
  taskArn: string;
  /** The cluster's name, from the task ARN, or (an old-format ARN) from the finding's cluster. */
  cluster: string;
}

/**
 * The task this remediation acts on, from its resource key (the task ARN), checked before any call.
 * A task ARN of another account or region than the remediation's is refused: the clients are the
 * remediation's. An old-format ARN does not name its cluster: the finding's (validated) does.
 */
export function taskOf(ctx: Pick<StepContext, "remediation" | "finding">): TaskRef {
  const key = ctx.remediation.resourceKey;
  if (ECS_CLUSTER_ARN.regex.test(key)) {
    throw new EscalateRemediation("no_task", `the finding names cluster ${key} but no task: there is no task to contain`);
  }
  const taskArn = resourceKeyAs(ctx, ECS_TASK_ARN);
  const groups = ECS_TASK_ARN.regex.exec(taskArn)?.groups ?? {};
  const account = expectId(ACCOUNT_ID, ctx.remediation.accountId, "the remediation's account");
  const region = expectId(REGION, ctx.remediation.region, "the remediation's region");
  if (groups["account"] !== account || groups["region"] !== region) {
    throw new EscalateRemediation("other_account", `task ${taskArn} is not in the remediation's account ${account} and region ${region}`);
  }
  const named = clusterOfFinding(ctx.finding);
  // The task ARN's cluster is the one acted on; a finding naming another is inconsistent (forged
  // or corrupted): a person looks rather than the responder choosing one of the two.
  if (groups["clusterName"] !== undefined && named !== null && named !== groups["clusterName"]) {
    throw new EscalateRemediation("cluster_mismatch", `task ${taskArn} is in cluster ${groups["clusterName"]}, but the finding names cluster ${named}`);
  }
  const cluster = groups["clusterName"] ?? named;
  if (cluster === null) {
    throw new EscalateRemediation("no_cluster", `task ${taskArn} has an old-format ARN and the finding names no valid cluster`);
  }
  return { taskArn, cluster: expectId(ECS_CLUSTER_NAME, cluster, "the task's cluster") };
}
