// Tags this playbook writes on the task: the keys every playbook writes (one prefix, so that an
// operator finds every mark the service leaves), the same as the Instance playbook's.
import { DEFAULT_EXEMPT_TAG as POLICY_DEFAULT_EXEMPT_TAG } from "@gdr/core/policy/schema";

export { TAG_FINDING_ID, TAG_REMEDIATION_ID } from "../kit/evidence/index.js";
export const TAG_STATE = "guardduty-responder:state";

/** The task is on its VPC's containment group. */
export const STATE_ISOLATED = "isolated";
/** The task could not be isolated on its own (a refusal, a shared host): stopping it is offered. */
export const STATE_NOT_ISOLATED = "not-isolated";

// A type, not an interface: outputs holding it must be assignable to Json.
export type TagPair = {
  key: string;
  value: string;
};

/** The exemption tag the policy file defaults to; the policy may set another one per deployment. */
export const DEFAULT_EXEMPT_TAG: Readonly<TagPair> = POLICY_DEFAULT_EXEMPT_TAG;
