// The identifiers this playbook hands to EC2, Auto Scaling and ELBv2: core's patterns
// (@gdr/core/findings/patterns), and the few core has no use for.
import {
  ACCOUNT_ID,
  INSTANCE_ID,
  NETWORK_INTERFACE_ID,
  REGION,
  SECURITY_GROUP_ID,
  SUBNET_ID,
  TARGET_GROUP_ARN,
  VPC_ID,
  type IdentifierPattern,
} from "@gdr/core/findings/patterns";
import type { StepContext } from "../../../engine/step.js";
import { resourceKeyAs } from "../../kit/ids.js";

export { ACCOUNT_ID, INSTANCE_ID, NETWORK_INTERFACE_ID, REGION, SECURITY_GROUP_ID, SUBNET_ID, TARGET_GROUP_ARN, VPC_ID };
export { expectId, UnexpectedIdentifierError } from "../../kit/ids.js";

const hexId = (prefix: string): RegExp => new RegExp(`^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`);

export const VOLUME_ID: IdentifierPattern = { label: "an EBS volume id (vol-...)", regex: hexId("vol") };
export const SNAPSHOT_ID: IdentifierPattern = { label: "an EBS snapshot id (snap-...)", regex: hexId("snap") };
export const ENI_ATTACHMENT_ID: IdentifierPattern = {
  label: "a network interface attachment id (eni-attach-...)",
  regex: hexId("eni-attach"),
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

/** The remediation's resource key is the instance id; checked before any call is made. */
export function instanceIdOf(ctx: Pick<StepContext, "remediation">): string {
  return resourceKeyAs(ctx, INSTANCE_ID);
}
