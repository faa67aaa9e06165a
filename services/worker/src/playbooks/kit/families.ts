// Rate buckets shared by more than one playbook. The engine refuses two playbooks declaring one
// family with different buckets, so a family two playbooks call is declared here, once, and each
// playbook's families.ts picks the ones it calls.
import type { BucketSpec } from "../../engine/limits/token-bucket.js";

export const EC2_WRITE = "ec2-write";
export const EC2_READ = "ec2-read";
export const ELBV2 = "elbv2";
export const ECS_READ = "ecs-read";
export const ECS_WRITE = "ecs-write";
export const ECR_READ = "ecr-read";
export const ECR_WRITE = "ecr-write";
/** The responder's own calls (ctx.startRemediation): a row in Postgres, not an AWS call. */
export const RESPONDER = "responder";

/**
 * EC2 and ELB v2: see instance/families.ts for the sources and why these are below AWS's own.
 *
 * ECS: AWS throttles its API per account and Region with token buckets ("Request throttling for
 * the Amazon ECS API", ECS Developer Guide); the describe and list actions have larger buckets
 * than the changing ones (StopTask, UpdateContainerInstancesState, DeregisterTaskDefinition,
 * UpdateTaskProtection). A remediation makes a handful of calls, and the account's own
 * deployments and autoscaling draw from the same buckets, so ours are small.
 *
 * ECR: per-account, per-Region rate quotas per action ("Amazon ECR service quotas", ECR User
 * Guide); image pulls by every cluster of the account draw from the same quotas, and a hunt for
 * one image makes a few reads, one scan and one delete.
 *
 * The responder's own bucket bounds how fast one worker can start remediations of its own.
 */
export const SHARED_FAMILIES = Object.freeze({
  [EC2_WRITE]: Object.freeze({ capacity: 20, refillPerSecond: 2 }),
  [EC2_READ]: Object.freeze({ capacity: 40, refillPerSecond: 8 }),
  [ELBV2]: Object.freeze({ capacity: 10, refillPerSecond: 2 }),
  [ECS_READ]: Object.freeze({ capacity: 20, refillPerSecond: 5 }),
  [ECS_WRITE]: Object.freeze({ capacity: 10, refillPerSecond: 2 }),
  [ECR_READ]: Object.freeze({ capacity: 10, refillPerSecond: 2 }),
  [ECR_WRITE]: Object.freeze({ capacity: 5, refillPerSecond: 1 }),
  [RESPONDER]: Object.freeze({ capacity: 10, refillPerSecond: 2 }),
} satisfies Record<string, BucketSpec>);

export type SharedFamily = keyof typeof SHARED_FAMILIES;

/** The shared buckets a playbook calls, by name. */
export function familiesOf(names: readonly SharedFamily[]): Record<string, BucketSpec> {
  return Object.fromEntries(names.map((name) => [name, SHARED_FAMILIES[name]]));
}
