/**
 * Exemptions, and why they are not equal.
 *
 * - `exempt.resources` in the policy names resources by id or ARN. Only whoever edits the policy
 *   can change it, so it is honoured: the finding is ignored (`exempt_resource`), recorded, and
 *   people are told when the finding is medium or higher.
 * - The exempt tag (`exemptTag`) is read from the finding's resource tags, which the workload
 *   itself may be able to set: a compromised instance that tags itself exempt must not buy
 *   silence. For a medium-or-higher finding the tag only turns automatic containment into an
 *   approval request (never into nothing), and people are told. For a low finding the tag is
 *   honoured as before (ignored, `exempt_tag`, not notified): low findings only notify in the
 *   shipped policy, the tag exists for workloads that trip them routinely (scanners, honeypots),
 *   and telling people about each one would teach them to ignore the channel.
 */
import {
  ACCESS_KEY_ID,
  EC2_INSTANCE_ARN,
  ECS_CLUSTER_ARN,
  ECS_TASK_ARN,
  EKS_CLUSTER_ARN,
  IAM_PRINCIPAL_ARN,
  INSTANCE_ID,
  type IdentifierPattern,
} from "../findings/patterns.js";
import type { ParsedFinding } from "../findings/types.js";
import { BAND_FLOOR } from "./severity.js";

/** What a policy exemption entry may be: identifiers the workload cannot change. */
export const EXEMPT_RESOURCE_PATTERNS: readonly IdentifierPattern[] = [
  INSTANCE_ID,
  EC2_INSTANCE_ARN,
  ECS_CLUSTER_ARN,
  ECS_TASK_ARN,
  EKS_CLUSTER_ARN,
  ACCESS_KEY_ID,
  IAM_PRINCIPAL_ARN,
];

export const EXEMPT_RESOURCE_LABEL =
  "an instance id (i-...), an EC2 instance, ECS cluster, ECS task or EKS cluster ARN, an access key id, or an IAM user or role ARN";

export function isExemptResourceId(value: string): boolean {
  return EXEMPT_RESOURCE_PATTERNS.some((p) => p.regex.test(value));
}

/** An exemption that applied to a finding: how, whether people must be told, and in words. */
export interface Exemption {
  by: "tag" | "resource";
  /** Medium severity or higher: every exempt outcome is notified. */
  notify: boolean;
  message: string;
}

/** Exempt outcomes of findings from this severity up are notified (GuardDuty's medium band). */
export const EXEMPT_NOTIFY_FROM = BAND_FLOOR.medium;

export function notifiesExemption(finding: ParsedFinding): boolean {
  return finding.severity >= EXEMPT_NOTIFY_FROM;
}

/**
 * Every id and ARN by which the policy can name the finding's resource: the ids it carries and
 * the ARNs built from them in the finding's partition, region and account (GuardDuty reports most
 * resources by id or name only).
 */
export function exemptableIdentifiers(finding: ParsedFinding): string[] {
  const { partition, region, accountId } = finding;
  const r = finding.resource;
  const ec2Arn = (instanceId: string): string => `arn:${partition}:ec2:${region}:${accountId}:instance/${instanceId}`;
  switch (r.type) {
    case "Instance":
      return [r.instanceId, ec2Arn(r.instanceId)];
    case "ECSCluster":
      return [r.clusterArn, ...(r.taskArn === undefined ? [] : [r.taskArn])];
    case "EKSCluster":
      return [r.clusterArn ?? `arn:${partition}:eks:${region}:${accountId}:cluster/${r.clusterName}`];
    case "Container":
      // The playbook acts on the container's host: exempting the host instance covers it.
      return r.instanceId === undefined ? [] : [r.instanceId, ec2Arn(r.instanceId)];
    case "AccessKey": {
      const ids = r.accessKeyId === undefined ? [] : [r.accessKeyId];
      const kind = r.userType === "IAMUser" ? "user" : r.userType === "AssumedRole" ? "role" : undefined;
      if (kind !== undefined && r.userName !== undefined) ids.push(`arn:${partition}:iam::${accountId}:${kind}/${r.userName}`);
      return ids;
    }
    case "Other":
      return [];
  }
}

/** The first of the finding's identifiers the policy exempts, or undefined. */
export function exemptResourceOf(finding: ParsedFinding, exempted: readonly string[]): string | undefined {
  if (exempted.length === 0) return undefined;
  return exemptableIdentifiers(finding).find((id) => exempted.includes(id));
}

/**
 * Whether the policy exempts an EC2 instance a playbook found (the host of an ECS task on bridge
 * networking), by id or by ARN in its account and region: a remediation started for it is kept to
 * notify, like a finding on it would be ignored.
 */
export function exemptInstance(exempted: readonly string[], at: { instanceId: string; partition: string; region: string; accountId: string }): string | undefined {
  const ids = [at.instanceId, `arn:${at.partition}:ec2:${at.region}:${at.accountId}:instance/${at.instanceId}`];
  return ids.find((id) => exempted.includes(id));
}

