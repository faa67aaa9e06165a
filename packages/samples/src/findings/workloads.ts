// Sample findings on workloads: an EC2 instance, an EKS pod, an ECS task, a standalone container.
import { common, finding, hexId, runtimeDetails, tagList, uuid, type Common, type FindingOptions, type JsonObject } from "./base.js";

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

export interface EcsContainerOption {
  name: string;
  image: string;
  /** The runtime's container id. Default: `<task id>-<digits>`, as ECS on Fargate reports it. */
  id?: string;
}

export interface EcsFindingOptions extends FindingOptions {
  clusterName?: string;
  /** Without a task the finding names only the cluster. Default true. */
  withTask?: boolean;
  /**
   * The task's ARN, e.g. one a test ran in moto (its cluster must be `clusterName`'s, or the
   * parser drops it), or an old-format ARN without the cluster. Default: derived from the seed.
   */
  taskArn?: string;
  /** Default `arn:...:task-definition/payments-api:42`. */
  definitionArn?: string;
  /** Default FARGATE. */
  launchType?: "FARGATE" | "EC2" | "EXTERNAL";
  /** `service:<name>` for a service's task, `family:<name>` for a standalone one. Default `service:payments-api`. */
  group?: string;
  /** Default `ecs-svc/...` for a service's group, else absent. */
  startedBy?: string;
  /** Default one container `api` running `<account ECR>/payments-api:1.8.2`. */
  containers?: EcsContainerOption[];
  /**
   * service.runtimeDetails.context.modifyingProcess: the process that wrote the file the finding
   * is about. Absent (the default), a malicious file came with the image itself, which is how the
   * policy tells an image finding from a runtime one. `true` adds a default one (`curl`).
   */
  modifyingProcess?: boolean | { name: string; executablePath: string };
}

function ecsContainers(o: EcsFindingOptions, c: Common, taskId: string): JsonObject[] {
  const registry = `${c.accountId}.dkr.ecr.${c.region}.amazonaws.com`;
  const containers = o.containers ?? [{ name: "api", image: `${registry}/payments-api:1.8.2` }];
  return containers.map((container, i) => {
    const slash = container.image.indexOf("/");
    const prefix = slash > 0 ? container.image.slice(0, slash) : "";
    return {
      containerRuntime: "containerd",
      id: container.id ?? `${taskId}-${2970111234 + i}`,
      name: container.name,
      image: container.image,
      imagePrefix: prefix,
    };
  });
}

function ecsRuntimeDetails(o: EcsFindingOptions, c: Common): JsonObject {
  const details = runtimeDetails(c, "curl", "/usr/bin/curl");
  if (o.modifyingProcess === undefined || o.modifyingProcess === false) return details;
  const writer = o.modifyingProcess === true ? { name: "curl", executablePath: "/usr/bin/curl" } : o.modifyingProcess;
  const writerUuid = uuid(c.seed, `modifying-${writer.name}`);
  return {
    ...details,
    context: {
      modifyingProcess: {
        name: writer.name,
        executablePath: writer.executablePath,
        executableSha256: hexId(64, c.seed, `sha-modifying-${writer.name}`),
        pid: 4300,
        namespacePid: 21,
        pwd: "/tmp",
        uuid: writerUuid,
        startTime: c.createdAt,
        user: "root",
        uid: 0,
        euid: 0,
        userId: 0,
      },
      modifiedAt: c.createdAt,
    },
  };
}

/** An ECS Runtime Monitoring finding (resourceType "ECSCluster") on a task (Fargate by default). */
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
    registeredContainerInstancesCount: o.launchType === "EC2" ? 1 : 0,
    runningTasksCount: 6,
    tags: tagList(o, [{ key: "team", value: "payments" }]),
  };
  if (o.withTask ?? true) {
    const group = o.group ?? "service:payments-api";
    const startedBy = o.startedBy ?? (group.startsWith("service:") ? "ecs-svc/1234567890123456789" : undefined);
    cluster["taskDetails"] = {
      arn: o.taskArn ?? `${prefix}:task/${clusterName}/${taskId}`,
      definitionArn: o.definitionArn ?? `${prefix}:task-definition/payments-api:42`,
      version: "3",
      createdAt: 1_730_800_000_000,
      startedAt: 1_730_800_030_000,
      ...(startedBy === undefined ? {} : { startedBy }),
      launchType: o.launchType ?? "FARGATE",
      group,
      tags: [],
      containers: ecsContainers(o, c, taskId),
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
    { runtimeDetails: ecsRuntimeDetails(o, c) },
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
