// The IAM rate buckets this playbook takes tokens from.
//
// AWS publishes no IAM request rate: its knowledge-center article on IAM and STS throttling
// ("How do I resolve API throttling or 'Rate exceeded' errors for IAM and AWS STS?", re:Post
// knowledge center iam-sts-throttling-error) says every caller of the account's IAM API (the
// console, the CLI, CI pipelines, Terraform) draws from one maximum rate per account, that the
// limit cannot be raised, and that IAM changes (CreatePolicyVersion and the like) should be spread
// over time. IAM is also a global service: every Region's remediation draws from the same bucket.
// So the defaults are small: a remediation makes about ten reads and one or two writes, and a
// burst of findings on one account must never throttle that account's own deployments.
import type { BucketSpec } from "../../engine/limits/token-bucket.js";

export const IAM_READ = "iam-read";
export const IAM_WRITE = "iam-write";

export const ACCESS_KEY_FAMILIES: Readonly<Record<string, BucketSpec>> = Object.freeze({
  [IAM_READ]: Object.freeze({ capacity: 10, refillPerSecond: 2 }),
  [IAM_WRITE]: Object.freeze({ capacity: 5, refillPerSecond: 1 }),
});
