// Isolation of network interfaces (instance ENIs, ECS task ENIs): see README.md.
export { readEnisByIds, sameGroups, toEniState, type EniState } from "./enis.js";
export { EniChangeRefused, ensureVpcGroups, isolateEnis, type IsolationOutcome } from "./isolate.js";
export { isolationProblems, type IsolationProblems } from "./problems.js";
export { pendingRestorations, restoreEniGroups, type RestoreOutcome } from "./restore.js";
export { ALL_TRAFFIC_EGRESS, findTransitGroupId, lockName, type VpcGroups } from "./groups.js";
export {
  CONTAINMENT_GROUP_NAME,
  CONTAINMENT_ROLE,
  TAG_ROLE,
  TRANSIT_GROUP_NAME,
  TRANSIT_ROLE,
} from "./tags.js";
export { EGRESS_CLOSED, EGRESS_OPENED, TRANSIT_ENTERED, TRANSIT_LEFT } from "./ledger.js";
