import { z } from "zod";

/**
 * The shape of a GuardDuty finding (the EventBridge event's `detail`), limited to the fields this
 * service reads. Unknown keys are allowed and dropped (GuardDuty adds fields over time); the raw
 * object is kept separately for the audit store.
 *
 * This schema checks structure and size only: types, string lengths, array lengths, number ranges.
 * Identifier formats are checked afterwards against patterns.ts (identifiers.ts), because GuardDuty
 * sample findings carry placeholder values there and need a different policy than real findings.
 *
 * Optional fields accept `null` as well as absence: GuardDuty writes `null` for unknown values
 * (e.g. `"platform": null`).
 */

/** A type error message that says "is missing" when the field is absent. */
const typeError = (expected: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? "is missing" : expected;

/** Generous bound for any identifier-like string before its pattern is checked. */
const ID_MAX = 2048;
const id = () => z.string().max(ID_MAX).nullish();
const text = (max: number) => z.string().max(max).nullish();

export const MAX_TITLE_LENGTH = 1024;
export const MAX_DESCRIPTION_LENGTH = 8192;
export const MAX_TAGS = 256;
export const MAX_NETWORK_INTERFACES = 64;
export const MAX_SECURITY_GROUPS = 64;
export const MAX_CONTAINERS = 64;
// AWS allows 128-character tag keys and 256-character values; JavaScript counts UTF-16 units, so
// the caps leave room for characters outside the Basic Multilingual Plane.
export const MAX_TAG_KEY_LENGTH = 256;
export const MAX_TAG_VALUE_LENGTH = 512;

const tag = z.object({
  key: z.string().min(1).max(MAX_TAG_KEY_LENGTH),
  value: z.string().max(MAX_TAG_VALUE_LENGTH).nullish(),
});
const tags = z.array(tag).max(MAX_TAGS).nullish();

const container = z.object({
  id: id(),
  name: id(),
  image: id(),
  containerRuntime: id(),
});
const containers = z.array(container).max(MAX_CONTAINERS).nullish();

const securityGroup = z.object({ groupId: id(), groupName: text(255) });

const networkInterface = z.object({
  networkInterfaceId: id(),
  vpcId: id(),
  subnetId: id(),
  securityGroups: z.array(securityGroup).max(MAX_SECURITY_GROUPS).nullish(),
});

const instanceDetails = z.object({
  instanceId: id(),
  imageId: id(),
  networkInterfaces: z.array(networkInterface).max(MAX_NETWORK_INTERFACES).nullish(),
  tags,
});

const eksClusterDetails = z.object({ name: id(), arn: id(), tags });

const kubernetesWorkloadDetails = z.object({
  name: id(),
  type: id(),
  uid: id(),
  namespace: id(),
  containers,
});

const ecsTaskDetails = z.object({ arn: id(), definitionArn: id(), tags, containers });

const ecsClusterDetails = z.object({
  name: id(),
  arn: id(),
  tags,
  taskDetails: ecsTaskDetails.nullish(),
});

const accessKeyDetails = z.object({
  accessKeyId: id(),
  principalId: id(),
  userName: id(),
  userType: id(),
});

const resource = z.object({
  resourceType: z.string().min(1).max(64),
  instanceDetails: instanceDetails.nullish(),
  eksClusterDetails: eksClusterDetails.nullish(),
  kubernetesDetails: z.object({ kubernetesWorkloadDetails: kubernetesWorkloadDetails.nullish() }).nullish(),
  ecsClusterDetails: ecsClusterDetails.nullish(),
  containerDetails: container.nullish(),
  accessKeyDetails: accessKeyDetails.nullish(),
});

/** ISO string or epoch number; timestamps.ts decides whether it is a real instant. */
const timestamp = z.union([z.string().max(64), z.number()], {
  error: "must be an ISO-8601 string or an epoch number",
});

const service = z.object({
  archived: z.boolean().nullish(),
  count: z
    .number({ error: typeError("must be a number") })
    .int({ error: "must be a whole number" })
    .min(1, { error: "must be at least 1" })
    .max(2_147_483_647, { error: "is too large" }),
  // Sample findings carry `sample: true`; some copies (CSV/console exports) stringify it.
  additionalInfo: z.object({ sample: z.union([z.boolean(), z.string().max(16)]).nullish() }).nullish(),
  eventFirstSeen: timestamp.nullish(),
  eventLastSeen: timestamp.nullish(),
  // Runtime Monitoring findings: only whether the context names the process that created or
  // modified the file (or process) involved is read; the rest stays in the raw finding.
  runtimeDetails: z
    .object({ context: z.object({ modifyingProcess: z.record(z.string(), z.unknown()).nullish() }).nullish() })
    .nullish(),
});

export const findingDetailSchema = z.object({
  schemaVersion: text(16),
  id: z.string().max(ID_MAX),
  arn: z.string().max(ID_MAX),
  accountId: z.string().max(ID_MAX),
  region: z.string().max(ID_MAX),
  partition: z.string().max(ID_MAX),
  type: z.string().min(1).max(256),
  // GuardDuty severities are numbers from 1.0 to 10.0 (Low 1.0-3.9 ... Critical 9.0-10.0). A
  // string such as "8" is refused: GuardDuty always sends a JSON number, so a string means the
  // message was not produced by GuardDuty's serializer.
  severity: z
    .number({ error: typeError("must be a JSON number from 1.0 to 10.0") })
    .min(1, { error: "must be at least 1.0" })
    .max(10, { error: "must be at most 10.0" }),
  title: z.string().max(MAX_TITLE_LENGTH),
  description: text(MAX_DESCRIPTION_LENGTH),
  createdAt: timestamp,
  updatedAt: timestamp,
  resource,
  service,
});

export type FindingDetail = z.infer<typeof findingDetailSchema>;
export type FindingResourceDetail = FindingDetail["resource"];
export type ContainerDetail = z.infer<typeof container>;
export type TagDetail = z.infer<typeof tag>;
