import type { StepContext } from "../../../engine/step.js";
import { ACCOUNT_ID, REGION, expectId } from "./ids.js";

// Region prefix → partition, most specific first (AWS's published partitions).
const PARTITIONS: readonly (readonly [string, string])[] = [
  ["cn-", "aws-cn"],
  ["us-gov-", "aws-us-gov"],
  ["us-isob-", "aws-iso-b"],
  ["us-iso-", "aws-iso"],
  ["eu-isoe-", "aws-iso-e"],
  ["us-isof-", "aws-iso-f"],
  ["eusc-", "aws-eusc"],
];

export function partitionOf(region: string): string {
  return PARTITIONS.find(([prefix]) => region.startsWith(prefix))?.[1] ?? "aws";
}

/** arn:<partition>:ec2:<region>:<account>:instance/<id>, from the remediation's account and region. */
export function instanceArn(ctx: StepContext, instanceId: string): string {
  const region = expectId(REGION, ctx.remediation.region, "the remediation's region");
  const account = expectId(ACCOUNT_ID, ctx.remediation.accountId, "the remediation's account");
  return `arn:${partitionOf(region)}:ec2:${region}:${account}:instance/${instanceId}`;
}
