// Validation of what a finding names as the place to act (account, region) and of the role we
// assume there, done before any AWS call: nothing unvalidated ends up in an ARN or an endpoint.
// Account ids and regions are findings/patterns.ts's, the one set of identifier patterns.
import { ACCOUNT_ID, REGION } from "../findings/patterns.js";

export const ACCOUNT_ID_PATTERN = ACCOUNT_ID.regex;
/** us-east-1, us-gov-west-1, cn-north-1, us-isob-east-1, eusc-de-east-1, … */
export const REGION_PATTERN = REGION.regex;
/** IAM's pattern for role names (without a path). */
export const ROLE_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;
/** STS's pattern for RoleSessionName. */
export const SESSION_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/;
/** STS's pattern for ExternalId. */
export const EXTERNAL_ID_PATTERN = /^[\w+=,.@:/-]{2,1224}$/;

/** A target or setting that failed validation; classified as a fatal `validation` error. */
export class AwsTargetError extends Error {
  override readonly name = "InvalidAwsTarget";
}

export function assertAccountId(accountId: string): void {
  if (!ACCOUNT_ID_PATTERN.test(accountId)) {
    throw new AwsTargetError(`not an AWS account id (12 digits): ${JSON.stringify(accountId)}`);
  }
}

export function assertRegion(region: string): void {
  if (!REGION_PATTERN.test(region)) {
    throw new AwsTargetError(`not an AWS region name: ${JSON.stringify(region)}`);
  }
}

export function assertRoleName(roleName: string): void {
  if (!ROLE_NAME_PATTERN.test(roleName)) {
    throw new AwsTargetError(`not an IAM role name (1-64 of letters, digits and +=,.@_-): ${JSON.stringify(roleName)}`);
  }
}

/**
 * The ARN partition a region belongs to (the same prefixes as the SDK's partitions.json). IAM is
 * per partition: credentials from one partition cannot act in another.
 */
export function partitionOf(region: string): string {
  assertRegion(region);
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("us-iso-")) return "aws-iso";
  if (region.startsWith("us-isob-")) return "aws-iso-b";
  if (region.startsWith("eu-isoe-")) return "aws-iso-e";
  if (region.startsWith("us-isof-")) return "aws-iso-f";
  if (region.startsWith("eusc-")) return "aws-eusc";
  return "aws";
}

export function roleArn(partition: string, accountId: string, roleName: string): string {
  assertAccountId(accountId);
  assertRoleName(roleName);
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}
