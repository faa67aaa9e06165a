import {
  ACCOUNT_ID,
  INSTANCE_ID,
  NETWORK_INTERFACE_ID,
  REGION,
  SECURITY_GROUP_ID,
  SUBNET_ID,
  VPC_ID,
  type IdentifierPattern,
} from "@gdr/core/findings/patterns";
import type { StepContext } from "../../../engine/step.js";

export { ACCOUNT_ID, INSTANCE_ID, NETWORK_INTERFACE_ID, REGION, SECURITY_GROUP_ID, SUBNET_ID, VPC_ID };

const hexId = (prefix: string): RegExp => new RegExp(`^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`);

export const VOLUME_ID: IdentifierPattern = { label: "an EBS volume id (vol-...)", regex: hexId("vol") };
export const SNAPSHOT_ID: IdentifierPattern = { label: "an EBS snapshot id (snap-...)", regex: hexId("snap") };
export const ENI_ATTACHMENT_ID: IdentifierPattern = {
  label: "a network interface attachment id (eni-attach-...)",
  regex: hexId("eni-attach"),
};
export const TARGET_GROUP_ARN: IdentifierPattern = {
  label: "a target group ARN",
  regex:
    /^arn:aws(?:-cn|-us-gov|-iso(?:-[bef])?|-eusc)?:elasticloadbalancing:[a-z]{2,4}(?:-[a-z]{2,10}){1,2}-[0-9]{1,2}:[0-9]{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/,
};
// Auto Scaling group names may hold almost any character (AWS's own pattern); refuse only
// control characters and oversize values, so that an odd name never blocks containment.
export const AUTO_SCALING_GROUP_NAME: IdentifierPattern = {
  label: "an Auto Scaling group name",
  regex: /^[^\p{Cc}]{1,255}$/u,
};
export const IPV4_ADDRESS: IdentifierPattern = {
  label: "an IPv4 address",
  regex: /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/,
};

/** AWS answered (or a stored output holds) an identifier that does not look like one. */
export class UnexpectedIdentifierError extends Error {
  override readonly name = "UnexpectedIdentifierError";
}

/**
 * Re-validates an identifier read from an AWS response or a stored output before it reaches
 * another call: a value that does not match is never passed on.
 */
export function expectId(pattern: IdentifierPattern, value: unknown, what: string): string {
  if (typeof value !== "string" || !pattern.regex.test(value)) {
    const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 80)) : typeof value;
    throw new UnexpectedIdentifierError(`${what} is not ${pattern.label}: ${shown}`);
  }
  return value;
}

/** The remediation's resource key is the instance id; checked before any call is made. */
export function instanceIdOf(ctx: StepContext): string {
  return expectId(INSTANCE_ID, ctx.remediation.resourceKey, "the remediation's resource key");
}
