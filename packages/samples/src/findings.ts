/**
 * Builders for GuardDuty findings in the shape EventBridge delivers them (the event's `detail`),
 * for unit tests, integration tests and the demo. Every builder returns a fresh plain JSON object
 * that tests may change freely (see setIn/deleteIn).
 *
 * Ids are random by default, so many findings never collide; pass `seed` to make every id in a
 * finding deterministic (the same seed gives the same finding ids, instance ids, ARNs, ...), or
 * pass `id` to fix just the finding id (e.g. to build a later update of the same finding).
 */
import { createHash, randomBytes } from "node:crypto";

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export interface FindingOptions {
  /** Finding id, 32 lowercase hex characters. Default: derived from `seed`, else random. */
  id?: string;
  /** Makes every generated identifier deterministic. */
  seed?: string;
  accountId?: string;
  region?: string;
  partition?: string;
  type?: string;
  severity?: number;
  title?: string;
  /** service.count: how many times GuardDuty has seen this activity. */
  count?: number;
  /** ISO strings. Default: now. */
  createdAt?: string;
  updatedAt?: string;
  archived?: boolean;
  /** service.additionalInfo.sample; GuardDuty's sample findings carry `true`. */
  sample?: boolean | string;
  /** Tags on the affected resource (instance, cluster or task). */
  tags?: { key: string; value: string }[];
}

export const DEFAULT_ACCOUNT_ID = "111122223333";
export const DEFAULT_REGION = "us-east-1";

/** `n` lowercase hex characters: sha256 of seed and label when seeded, random otherwise. */
export function hexId(n: number, seed?: string, label = ""): string {
  if (seed === undefined) return randomBytes(Math.ceil(n / 2)).toString("hex").slice(0, n);
  let out = "";
  for (let i = 0; out.length < n; i++) out += createHash("sha256").update(`${seed}|${label}|${i}`).digest("hex");
  return out.slice(0, n);
}

/** A lowercase UUID, deterministic when seeded. */
export function uuid(seed?: string, label = ""): string {
  const h = hexId(32, seed, label);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A fresh GuardDuty-style finding id. */
export function newFindingId(seed?: string): string {
  return hexId(32, seed, "finding");
}

interface Common {
  id: string;
  seed: string | undefined;
  accountId: string;
  region: string;
  partition: string;
  detectorId: string;
  createdAt: string;
  updatedAt: string;
}

function common(o: FindingOptions): Common {
  const now = new Date().toISOString();
  const createdAt = o.createdAt ?? o.updatedAt ?? now;
  const accountId = o.accountId ?? DEFAULT_ACCOUNT_ID;
  const region = o.region ?? DEFAULT_REGION;
  return {
    id: o.id ?? newFindingId(o.seed),
    seed: o.seed,
    accountId,
    region,
    partition: o.partition ?? "aws",
    // GuardDuty has one detector per account and region, and a finding keeps its detector across
    // versions (ingest treats a change as a conflict): unseeded, the detector follows the account and region.
    detectorId: hexId(32, o.seed ?? `${accountId}|${region}`, "detector"),
    createdAt,
    updatedAt: o.updatedAt ?? createdAt,
  };
}

interface Defaults {
  type: string;
  severity: number;
  title: string;
  description: string;
  featureName: string;
}

function finding(o: FindingOptions, c: Common, d: Defaults, resource: JsonObject, service: JsonObject): JsonObject {
  const sample = o.sample ?? false;
  return {
    schemaVersion: "2.0",
    accountId: c.accountId,
    region: c.region,
    partition: c.partition,
    id: c.id,
    arn: `arn:${c.partition}:guardduty:${c.region}:${c.accountId}:detector/${c.detectorId}/finding/${c.id}`,
    type: o.type ?? d.type,
    resource,
    service: {
      serviceName: "guardduty",
      detectorId: c.detectorId,
      featureName: d.featureName,
      ...service,
      resourceRole: "TARGET",
      additionalInfo: sample === false ? { value: "{}", type: "default" } : { sample },
      eventFirstSeen: c.createdAt,
      eventLastSeen: c.updatedAt,
      archived: o.archived ?? false,
      count: o.count ?? 1,
    },
    severity: o.severity ?? d.severity,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    title: `${sample === false ? "" : "[SAMPLE] "}${o.title ?? d.title}`,
    description: d.description,
  };
}

function tagList(o: FindingOptions, fallback: { key: string; value: string }[]): JsonObject[] {
  return (o.tags ?? fallback).map((t) => ({ key: t.key, value: t.value }));
}

/** service.runtimeDetails for a Runtime Monitoring finding: the process the agent saw. */
function runtimeDetails(c: Common, name: string, path: string): JsonObject {
  const parent = uuid(c.seed, "parent-process");
  return {
    process: {
      name,
      executablePath: path,
      executableSha256: hexId(64, c.seed, `sha-${name}`),
      pid: 4242,
      namespacePid: 17,
      pwd: "/tmp",
      uuid: uuid(c.seed, `process-${name}`),
      parentUuid: parent,
      startTime: c.createdAt,
      user: "root",
      uid: 0,
      euid: 0,
      userId: 0,
      lineage: [{ pid: 4100, uuid: parent, executablePath: "/bin/bash", euid: 0, startTime: c.createdAt, name: "bash", userId: 0 }],
    },
    context: {},
  };
}

function instanceDetails(c: Common, o: FindingOptions, instanceId: string, eniCount: number, label = "instance"): JsonObject {
  const vpcId = `vpc-${hexId(17, c.seed, `${label}-vpc`)}`;
  const subnetId = `subnet-${hexId(17, c.seed, `${label}-subnet`)}`;
  const networkInterfaces: JsonObject[] = [];
  for (let i = 0; i < eniCount; i++) {
    networkInterfaces.push({
      networkInterfaceId: `eni-${hexId(17, c.seed, `${label}-eni-${i}`)}`,
      privateDnsName: `ip-10-0-1-${10 + i}.ec2.internal`,
      privateIpAddress: `10.0.1.${10 + i}`,
      privateIpAddresses: [{ privateDnsName: `ip-10-0-1-${10 + i}.ec2.internal`, privateIpAddress: `10.0.1.${10 + i}` }],
      subnetId,
      vpcId,
      securityGroups: [
        { groupName: "web", groupId: `sg-${hexId(17, c.seed, `${label}-sg-${i}-a`)}` },
        { groupName: "default", groupId: `sg-${hexId(17, c.seed, `${label}-sg-${i}-b`)}` },
      ],
      ipv6Addresses: [],
      publicDnsName: "",
      publicIp: i === 0 ? "198.51.100.7" : null,
    });
  }
  return {
    instanceId,
    instanceType: "m5.large",
    instanceState: "running",
    launchTime: "2024-10-01T08:00:00.000Z",
    availabilityZone: `${c.region}a`,
    imageId: `ami-${hexId(17, c.seed, `${label}-ami`)}`,
    imageDescription: "Amazon Linux 2023 AMI",
    platform: null,
    iamInstanceProfile: {
      arn: `arn:${c.partition}:iam::${c.accountId}:instance-profile/app-server`,
      id: `AIPA${hexId(17, c.seed, `${label}-profile`).toUpperCase()}`,
    },
    productCodes: [],
    networkInterfaces,
    tags: tagList(o, [
      { key: "Name", value: "app-server" },
      { key: "Environment", value: "production" },
    ]),
  };
}

export interface InstanceFindingOptions extends FindingOptions {
  instanceId?: string;
  /** Number of network interfaces, each with two security groups. Default 1. */
  eniCount?: number;
}

/** An EC2 Runtime Monitoring finding (resourceType "Instance"). */
export function instanceFinding(o: InstanceFindingOptions = {}): JsonObject {
  const c = common(o);
  const instanceId = o.instanceId ?? `i-${hexId(17, o.seed, "instance")}`;
  return finding(
    o,
    c,
    {
      type: "CryptoCurrency:Runtime/BitcoinTool.B!DNS",
      severity: 8,
      title: `Bitcoin-related domain name queried by EC2 instance ${instanceId}.`,
      description: `EC2 instance ${instanceId} is querying a domain name that is associated with Bitcoin-related activity.`,
      featureName: "RuntimeMonitoring",
    },
    { resourceType: "Instance", instanceDetails: instanceDetails(c, o, instanceId, o.eniCount ?? 1) },
    {
      runtimeDetails: runtimeDetails(c, "xmrig", "/tmp/.cache/xmrig"),
      action: { actionType: "DNS_REQUEST", dnsRequestAction: { domain: "pool.minexmr.com", protocol: "UDP", blocked: false } },
    },
  );
}

export interface EksFindingOptions extends FindingOptions {
  clusterName?: string;
  namespace?: string;
  podName?: string;
  /** Without a pod the finding is cluster-level (no kubernetesWorkloadDetails). Default true. */
  withPod?: boolean;
}

/** An EKS Runtime Monitoring finding (resourceType "EKSCluster") on a pod, with its node. */
export function eksFinding(o: EksFindingOptions = {}): JsonObject {
  const c = common(o);
  const clusterName = o.clusterName ?? "prod-eks";
  const nodeId = `i-${hexId(17, o.seed, "eks-node")}`;
  const resource: JsonObject = {
    resourceType: "EKSCluster",
    eksClusterDetails: {
      name: clusterName,
      arn: `arn:${c.partition}:eks:${c.region}:${c.accountId}:cluster/${clusterName}`,
      vpcId: `vpc-${hexId(17, o.seed, "eks-vpc")}`,
      status: "ACTIVE",
      tags: tagList(o, [{ key: "team", value: "platform" }]),
      createdAt: 1_696_150_800.123,
    },
    instanceDetails: instanceDetails(c, {}, nodeId, 1, "eks-node"),
  };
  if (o.withPod ?? true) {
    resource["kubernetesDetails"] = {
      kubernetesWorkloadDetails: {
        name: o.podName ?? `web-7d9f8b6c5-${hexId(5, o.seed, "pod")}`,
        type: "pods",
        uid: uuid(o.seed, "pod-uid"),
        namespace: o.namespace ?? "default",
        containers: [
          {
            containerRuntime: "containerd",
            id: hexId(64, o.seed, "eks-container"),
            name: "web",
            image: `${c.accountId}.dkr.ecr.${c.region}.amazonaws.com/web@sha256:${hexId(64, o.seed, "eks-image")}`,
            imagePrefix: `${c.accountId}.dkr.ecr.${c.region}.amazonaws.com`,
            securityContext: { privileged: false, allowPrivilegeEscalation: false },
          },
        ],
      },
    };
  }
  return finding(
    o,
    c,
    {
      type: "Execution:Runtime/NewBinaryExecuted",
      severity: 5,
      title: "A container has executed a newly created or recently modified binary file.",
      description: `A newly created or recently modified binary file was executed in a container in EKS cluster ${clusterName}.`,
      featureName: "RuntimeMonitoring",
    },
    resource,
    { runtimeDetails: runtimeDetails(c, "kworkerds", "/tmp/kworkerds") },
  );
}

export interface EcsFindingOptions extends FindingOptions {
  clusterName?: string;
  /** Without a task the finding names only the cluster. Default true. */
  withTask?: boolean;
}

/** An ECS (Fargate) Runtime Monitoring finding (resourceType "ECSCluster") on a task. */
export function ecsFinding(o: EcsFindingOptions = {}): JsonObject {
  const c = common(o);
  const clusterName = o.clusterName ?? "payments";
  const prefix = `arn:${c.partition}:ecs:${c.region}:${c.accountId}`;
  const taskId = hexId(32, o.seed, "ecs-task");
  const cluster: JsonObject = {
    name: clusterName,
    arn: `${prefix}:cluster/${clusterName}`,
    status: "ACTIVE",
    activeServicesCount: 3,
    registeredContainerInstancesCount: 0,
    runningTasksCount: 6,
    tags: tagList(o, [{ key: "team", value: "payments" }]),
  };
  if (o.withTask ?? true) {
    cluster["taskDetails"] = {
      arn: `${prefix}:task/${clusterName}/${taskId}`,
      definitionArn: `${prefix}:task-definition/payments-api:42`,
      version: "3",
      createdAt: 1_730_800_000_000,
      startedAt: 1_730_800_030_000,
      startedBy: "ecs-svc/1234567890123456789",
      launchType: "FARGATE",
      group: "service:payments-api",
      tags: [],
      containers: [
        {
          containerRuntime: "containerd",
          id: `${taskId}-2970111234`,
          name: "api",
          image: `${c.accountId}.dkr.ecr.${c.region}.amazonaws.com/payments-api:1.8.2`,
          imagePrefix: `${c.accountId}.dkr.ecr.${c.region}.amazonaws.com`,
        },
      ],
    };
  }
  return finding(
    o,
    c,
    {
      type: "Backdoor:Runtime/C&CActivity.B!DNS",
      severity: 8,
      title: "A container is querying a domain name associated with a known command and control server.",
      description:
        `A container in ECS cluster ${clusterName} is querying a domain name associated with a known ` +
        "command and control server.",
      featureName: "RuntimeMonitoring",
    },
    { resourceType: "ECSCluster", ecsClusterDetails: cluster },
    { runtimeDetails: runtimeDetails(c, "curl", "/usr/bin/curl") },
  );
}

export interface ContainerFindingOptions extends FindingOptions {
  containerId?: string;
}

/** A Runtime Monitoring finding on a standalone container on an EC2 host (resourceType "Container"). */
export function containerFinding(o: ContainerFindingOptions = {}): JsonObject {
  const c = common(o);
  const hostId = `i-${hexId(17, o.seed, "container-host")}`;
  return finding(
    o,
    c,
    {
      type: "Execution:Runtime/ReverseShell",
      severity: 8,
      title: "A process in a container has created a reverse shell.",
      description: `A process in a container on EC2 instance ${hostId} has created a reverse shell.`,
      featureName: "RuntimeMonitoring",
    },
    {
      resourceType: "Container",
      containerDetails: {
        containerRuntime: "docker",
        id: o.containerId ?? hexId(64, o.seed, "container"),
        name: "worker",
        image: `docker.io/library/alpine:3.20@sha256:${hexId(64, o.seed, "container-image")}`,
        imagePrefix: "docker.io/library",
      },
      instanceDetails: instanceDetails(c, o, hostId, 1, "container-host"),
    },
    { runtimeDetails: runtimeDetails(c, "sh", "/bin/sh") },
  );
}

export interface AccessKeyFindingOptions extends FindingOptions {
  accessKeyId?: string;
  userType?: string;
  userName?: string;
  principalId?: string;
}

/**
 * Instance credentials used from outside AWS (resourceType "AccessKey"): a temporary ASIA key of an
 * instance role, by default.
 */
export function accessKeyFinding(o: AccessKeyFindingOptions = {}): JsonObject {
  const c = common(o);
  const roleName = o.userName ?? "app-server-role";
  return finding(
    o,
    c,
    {
      type: "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
      severity: 8,
      title: `Credentials for instance role ${roleName} used from external IP address.`,
      description:
        `Credentials that were created exclusively for an EC2 instance through instance role ${roleName} ` +
        "have been used from external IP address 203.0.113.50.",
      featureName: "CloudTrail",
    },
    {
      resourceType: "AccessKey",
      accessKeyDetails: {
        accessKeyId: o.accessKeyId ?? `ASIA${hexId(16, o.seed, "access-key").toUpperCase()}`,
        principalId: o.principalId ?? `AROA${hexId(17, o.seed, "role-id").toUpperCase()}:i-${hexId(17, o.seed, "instance")}`,
        userName: roleName,
        userType: o.userType ?? "AssumedRole",
      },
    },
    {
      action: {
        actionType: "AWS_API_CALL",
        awsApiCallAction: {
          api: "ListBuckets",
          serviceName: "s3.amazonaws.com",
          callerType: "Remote IP",
          remoteIpDetails: {
            ipAddressV4: "203.0.113.50",
            organization: { asn: "64496", asnOrg: "ExampleNet", isp: "ExampleNet", org: "ExampleNet" },
            country: { countryName: "Netherlands" },
            city: { cityName: "Amsterdam" },
            geoLocation: { lat: 52.37, lon: 4.89 },
          },
          affectedResources: {},
        },
      },
    },
  );
}

/** A finding on an S3 bucket: a resource type this service has no playbook for. */
export function s3Finding(o: FindingOptions = {}): JsonObject {
  const c = common(o);
  const bucket = `data-${hexId(8, o.seed, "bucket")}`;
  return finding(
    o,
    c,
    {
      type: "Policy:S3/BucketBlockPublicAccessDisabled",
      severity: 2,
      title: `Amazon S3 Block Public Access was disabled for S3 bucket ${bucket}.`,
      description: `Amazon S3 Block Public Access was disabled for S3 bucket ${bucket} by an IAM user.`,
      featureName: "CloudTrail",
    },
    {
      resourceType: "S3Bucket",
      s3BucketDetails: [
        {
          arn: `arn:${c.partition}:s3:::${bucket}`,
          name: bucket,
          type: "Destination",
          createdAt: 1_700_000_000,
          owner: { id: hexId(64, o.seed, "owner") },
          tags: [],
          defaultServerSideEncryption: { encryptionType: "AES256" },
          publicAccess: { effectivePermission: "NOT_PUBLIC" },
        },
      ],
    },
    {
      action: {
        actionType: "AWS_API_CALL",
        awsApiCallAction: { api: "PutBucketPublicAccessBlock", serviceName: "s3.amazonaws.com" },
      },
    },
  );
}

export interface EventOptions {
  /** The account whose event bus received the event; default the finding's accountId. */
  account?: string;
  region?: string;
  source?: string;
  detailType?: string;
  seed?: string;
}

/** The EventBridge event GuardDuty emits for a finding. */
export function eventBridgeEvent(detail: JsonObject, o: EventOptions = {}): JsonObject {
  const str = (v: JsonValue | undefined, fallback: string) => (typeof v === "string" ? v : fallback);
  return {
    version: "0",
    id: uuid(o.seed, "event"),
    "detail-type": o.detailType ?? "GuardDuty Finding",
    source: o.source ?? "aws.guardduty",
    account: o.account ?? str(detail["accountId"], DEFAULT_ACCOUNT_ID),
    time: str(detail["updatedAt"], new Date().toISOString()),
    region: o.region ?? str(detail["region"], DEFAULT_REGION),
    resources: [],
    detail,
  };
}

function topicArn(region: string, account: string): string {
  return `arn:aws:sns:${region}:${account}:guardduty-findings`;
}

function snsCommon(region: string, account: string, seed?: string): JsonObject {
  return {
    MessageId: uuid(seed, "sns-message"),
    TopicArn: topicArn(region, account),
    Timestamp: new Date().toISOString(),
    SignatureVersion: "1",
    Signature: randomBytes(64).toString("base64"),
    SigningCertURL: `https://sns.${region}.amazonaws.com/SimpleNotificationService-${hexId(32, seed, "cert")}.pem`,
  };
}

/** `event` as an SNS notification delivers it to SQS (raw message delivery off). */
export function snsWrap(event: JsonObject, o: { region?: string; account?: string; seed?: string } = {}): JsonObject {
  const region = o.region ?? DEFAULT_REGION;
  const account = o.account ?? DEFAULT_ACCOUNT_ID;
  const shared = snsCommon(region, account, o.seed);
  return {
    Type: "Notification",
    ...shared,
    Message: JSON.stringify(event),
    UnsubscribeURL:
      `https://sns.${region}.amazonaws.com/?Action=Unsubscribe` +
      `&SubscriptionArn=${topicArn(region, account)}:${uuid(o.seed, "sub")}`,
  };
}

/** The message SNS sends when the queue is subscribed to a topic. */
export function snsSubscriptionConfirmation(o: { region?: string; account?: string } = {}): JsonObject {
  const region = o.region ?? DEFAULT_REGION;
  const account = o.account ?? DEFAULT_ACCOUNT_ID;
  const shared = snsCommon(region, account);
  return {
    Type: "SubscriptionConfirmation",
    ...shared,
    Token: hexId(128),
    Message:
      `You have chosen to subscribe to the topic ${topicArn(region, account)}.\n` +
      "To confirm the subscription, visit the SubscribeURL included in this message.",
    SubscribeURL: `https://sns.${region}.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topicArn(region, account)}&Token=x`,
  };
}

type PathKey = string | number;

function container(root: JsonValue, path: readonly PathKey[]): JsonObject | JsonValue[] {
  let node: JsonValue = root;
  for (const key of path) {
    const next: JsonValue | undefined = Array.isArray(node)
      ? node[Number(key)]
      : typeof node === "object" && node !== null
        ? node[String(key)]
        : undefined;
    if (next === undefined || typeof next !== "object" || next === null) {
      throw new Error(`fixture path ${path.join(".")} does not lead to an object or array`);
    }
    node = next;
  }
  if (typeof node !== "object" || node === null) throw new Error("fixture root is not an object");
  return node;
}

/** Sets `value` at `path` inside `root` (which is changed and returned). */
export function setIn<T extends JsonObject>(root: T, path: readonly PathKey[], value: JsonValue): T {
  const parent = container(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (last === undefined) throw new Error("setIn needs a non-empty path");
  if (Array.isArray(parent)) parent[Number(last)] = value;
  else parent[String(last)] = value;
  return root;
}

/** Removes the key at `path` inside `root` (which is changed and returned). */
export function deleteIn<T extends JsonObject>(root: T, path: readonly PathKey[]): T {
  const parent = container(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (last === undefined) throw new Error("deleteIn needs a non-empty path");
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else Reflect.deleteProperty(parent, String(last));
  return root;
}
