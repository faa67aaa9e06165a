/**
 * Builders for GuardDuty findings in the shape EventBridge delivers them (the event's `detail`),
 * for unit tests, integration tests and the demo. Every builder returns a fresh plain JSON object
 * that tests may change freely (see setIn/deleteIn).
 *
 * Ids are random by default, so many findings never collide; pass `seed` to make every id in a
 * finding deterministic (the same seed gives the same finding ids, instance ids, ARNs, ...), or
 * pass `id` to fix just the finding id (e.g. to build a later update of the same finding).
 */
export {
  DEFAULT_ACCOUNT_ID,
  DEFAULT_REGION,
  hexId,
  newFindingId,
  uuid,
  type FindingOptions,
  type JsonObject,
  type JsonValue,
} from "./findings/base.js";
export {
  containerFinding,
  ecsFinding,
  eksFinding,
  instanceFinding,
  type ContainerFindingOptions,
  type EcsFindingOptions,
  type EksFindingOptions,
  type InstanceFindingOptions,
} from "./findings/workloads.js";
export { accessKeyFinding, s3Finding, type AccessKeyFindingOptions } from "./findings/other-resources.js";
export { eventBridgeEvent, snsSubscriptionConfirmation, snsWrap, type EventOptions } from "./findings/envelopes.js";
export { deleteIn, setIn } from "./findings/paths.js";
