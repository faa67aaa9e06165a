import { DEFAULT_EXEMPT_TAG as POLICY_DEFAULT_EXEMPT_TAG } from "@gdr/core/policy/schema";

/** Tag keys this playbook writes. One prefix, so that an operator can find every mark we leave. */
export const TAG_FINDING_ID = "guardduty-responder:finding-id";
export const TAG_REMEDIATION_ID = "guardduty-responder:remediation-id";
export const TAG_STATE = "guardduty-responder:state";
export const TAG_SOURCE_VOLUME_ID = "guardduty-responder:source-volume-id";
export const TAG_INSTANCE_ID = "guardduty-responder:instance-id";

export const STATE_ISOLATED = "isolated";
export const STATE_RELEASED = "released";

// The isolation groups' names and role tag (guardduty-responder:role) are the kit's:
// ../../kit/isolation/tags.ts.

// A type, not an interface: outputs holding it must be assignable to Json.
export type TagPair = {
  key: string;
  value: string;
};

/** The exemption tag the policy file defaults to; the policy may set another one per deployment. */
export const DEFAULT_EXEMPT_TAG: Readonly<TagPair> = POLICY_DEFAULT_EXEMPT_TAG;
