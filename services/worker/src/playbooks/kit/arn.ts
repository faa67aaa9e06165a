// ARNs built from the remediation's own account and region, both checked again first, with the
// partition core derives from the region (core/aws/targets.ts partitionOf: the one copy).
import { partitionOf } from "@gdr/core/aws/targets";
import { ACCOUNT_ID, REGION } from "@gdr/core/findings/patterns";
import type { StepContext } from "../../engine/step.js";
import { expectId } from "./ids.js";

export { partitionOf };

type Where = Pick<StepContext, "remediation">;

/** arn:<partition>:<service>:<region>:<account>:<resource>, e.g. an EC2 instance's. */
export function regionalArn(ctx: Where, service: string, resource: string): string {
  const region = expectId(REGION, ctx.remediation.region, "the remediation's region");
  const account = expectId(ACCOUNT_ID, ctx.remediation.accountId, "the remediation's account");
  return `arn:${partitionOf(region)}:${service}:${region}:${account}:${resource}`;
}

/**
 * arn:<partition>:<service>::<account>:<resource>, for a global service (IAM); the partition
 * still follows the remediation's region.
 */
export function globalArn(ctx: Where, service: string, resource: string): string {
  const region = expectId(REGION, ctx.remediation.region, "the remediation's region");
  const account = expectId(ACCOUNT_ID, ctx.remediation.accountId, "the remediation's account");
  return `arn:${partitionOf(region)}:${service}::${account}:${resource}`;
}
