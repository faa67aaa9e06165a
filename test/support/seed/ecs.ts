// The ECS world in moto, seeded and read back (README.md: the convention every playbook's seed
// module follows). Used by the ECS task playbook's tests and by the compromised-image playbook's,
// which runs tasks from its own images: the helpers take any image and any cluster.
//
// Seeding: a cluster; a VPC with DNS hostnames (moto's RunTask with awsvpc answers 500 without
// them) and two subnets; awsvpc Fargate task definitions and tasks, standalone or "service" tasks
// (moto's CreateService starts no task, so a service's task is a RunTask with
// `group: "service:<name>"` and `startedBy`); an EC2 container instance (registered with an
// instance identity document naming a moto EC2 instance) running bridge tasks; a load balancer's
// ip target group holding a service task's IP, as ECS would register it.
//
// moto notes (../shared/MOTO.md): every container gets `memory` (RunTask answers 500 without);
// a task's lifecycle moves one step per DescribeTasks unless pinned (pinTaskLifecycle); ListTasks
// by containerInstance answers 500 when Fargate tasks are present (viewContainerInstance filters
// DescribeTasks itself); DescribeTasks returns only the first container; StopTask leaves the ENI.
//
// Reading back: the task (status, tags, its ENI's groups, scale-in protection), the container
// instance (status), a target group's targets, with plain SDK calls, never the code under test.
import {
  CreateSecurityGroupCommand,
  DescribeNetworkInterfacesCommand,
  type EC2Client,
  ModifyVpcAttributeCommand,
  RunInstancesCommand,
  DescribeImagesCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ECSClient,
  GetTaskProtectionCommand,
  ListTagsForResourceCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { AwsClients } from "@gdr/core/aws/clients";
import { ecsFinding, type EcsFindingOptions, type JsonObject } from "@gdr/samples/findings";
import type { InitializeMiddleware, MiddlewareStack } from "@smithy/types";
import { awsTestEnv, MOTO_ACCOUNT_ID } from "../aws-env.js";
import { seedVpc, type SeededVpc } from "./instance.js";

/** The SDK clients, straight to moto, that the ECS world is seeded and read with. */
export interface EcsSeedClients {
  ecs: ECSClient;
  ec2: EC2Client;
  elbv2: ElasticLoadBalancingV2Client;
}

/** An ECS client straight to moto (world.aws has none): pass `{ ...world.aws, ecs }` to the seeders. */
export function ecsClient(endpoint: string): ECSClient {
  const env = awsTestEnv(endpoint);
  return new ECSClient({ region: env.region, endpoint: env.endpoint, credentials: env.credentials });
}

/**
 * Keeps every task at the status it is in: by default moto moves a task one lifecycle step each
 * time it is described, so a RUNNING task would read STOPPED after a few DescribeTasks calls.
 */
export async function pinTaskLifecycle(motoEndpoint: string): Promise<void> {
  const res = await fetch(`${motoEndpoint}/moto-api/state-manager/set-transition`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model_name: "ecs::task", transition: { progression: "manual", times: 1_000_000_000 } }),
  });
  if (!res.ok) throw new Error(`moto's state manager answered ${res.status}`);
  await res.body?.cancel();
}

function required<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`moto did not return ${what}`);
  return value;
}

let counter = 0;
const next = (): number => ++counter;

export interface SeededCluster {
  clusterName: string;
  clusterArn: string;
}

export async function seedCluster(clients: Pick<EcsSeedClients, "ecs">, name = `cluster-${next()}`): Promise<SeededCluster> {
  const out = await clients.ecs.send(new CreateClusterCommand({ clusterName: name }));
  return { clusterName: name, clusterArn: required(out.cluster?.clusterArn, "a cluster ARN") };
}

export interface SeededTaskNetwork extends SeededVpc {
  /** Two groups of the tasks' own, the groups a task ENI starts with. */
  securityGroupIds: [string, string];
}

/** A VPC with DNS hostnames (awsvpc tasks need them in moto) and two groups for task ENIs. */
export async function seedTaskNetwork(clients: Pick<EcsSeedClients, "ec2">): Promise<SeededTaskNetwork> {
  const vpc = await seedVpc(clients as Parameters<typeof seedVpc>[0]);
  await clients.ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpc.vpcId, EnableDnsHostnames: { Value: true } }));
  const n = next();
  const group = async (letter: string): Promise<string> => {
    const out = await clients.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: `task-${n}-${letter}`, Description: `task ${letter}`, VpcId: vpc.vpcId }),
    );
    return required(out.GroupId, "a security group id");
  };
  return { ...vpc, securityGroupIds: [await group("a"), await group("b")] };
}

export interface ContainerSpec {
  name: string;
  image: string;
  /** moto answers 500 to RunTask when a container has no memory: always set (default 128). */
  memory?: number;
  /** A container port (host port = container port in bridge mode). */
  port?: number;
}

export interface TaskDefinitionSpec {
  family?: string;
  networkMode: "awsvpc" | "bridge" | "host";
  containers: ContainerSpec[];
  /** FARGATE (awsvpc only) or EC2. Default: FARGATE for awsvpc, EC2 otherwise. */
  compatibility?: "FARGATE" | "EC2";
}

export interface SeededTaskDefinition {
  family: string;
  taskDefinitionArn: string;
}

export async function registerTaskDefinition(clients: Pick<EcsSeedClients, "ecs">, spec: TaskDefinitionSpec): Promise<SeededTaskDefinition> {
  const family = spec.family ?? `app-${next()}`;
  const compatibility = spec.compatibility ?? (spec.networkMode === "awsvpc" ? "FARGATE" : "EC2");
  const out = await clients.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      networkMode: spec.networkMode,
      requiresCompatibilities: [compatibility],
      ...(compatibility === "FARGATE" ? { cpu: "256", memory: "512" } : {}),
      containerDefinitions: spec.containers.map((c) => ({
        name: c.name,
        image: c.image,
        memory: c.memory ?? 128,
        essential: true,
        ...(c.port === undefined ? {} : { portMappings: [{ containerPort: c.port, ...(spec.networkMode === "awsvpc" ? {} : { hostPort: c.port }) }] }),
      })),
    }),
  );
  return { family, taskDefinitionArn: required(out.taskDefinition?.taskDefinitionArn, "a task definition ARN") };
}

export interface RunTaskSpec {
  cluster: SeededCluster;
  /** A registered task definition, or an image to register a one-container definition for. */
  taskDefinition?: SeededTaskDefinition;
  image?: string;
  /** Fargate + awsvpc on `network` (default), or EC2 bridge on `containerInstance`. */
  network?: SeededTaskNetwork;
  containerInstance?: SeededContainerInstance;
  /** `service:<name>` for a service's task (with `startedBy`), else ECS's default `family:<family>`. */
  group?: string;
  startedBy?: string;
  /** Tags on the task. */
  tags?: Record<string, string>;
}

export interface SeededTask {
  cluster: SeededCluster;
  taskArn: string;
  taskDefinitionArn: string;
  launchType: "FARGATE" | "EC2";
  /** The task ENI (awsvpc), with the groups it started with. */
  eniId: string | null;
  eniGroups: string[];
  privateIp: string | null;
  containerInstanceArn: string | null;
  group: string | null;
  images: string[];
}

/** Runs one task: Fargate awsvpc when given a network, EC2 bridge when given a container instance. */
export async function runTask(clients: EcsSeedClients, spec: RunTaskSpec): Promise<SeededTask> {
  const bridge = spec.containerInstance !== undefined;
  const definition =
    spec.taskDefinition ??
    (await registerTaskDefinition(clients, {
      networkMode: bridge ? "bridge" : "awsvpc",
      containers: [{ name: "app", image: required(spec.image, "an image or a task definition (test input)"), port: 8080 }],
    }));
  const tags = Object.entries(spec.tags ?? {}).map(([key, value]) => ({ key, value }));
  const common = {
    cluster: spec.cluster.clusterName,
    taskDefinition: definition.taskDefinitionArn,
    ...(spec.group === undefined ? {} : { group: spec.group }),
    ...(spec.startedBy === undefined ? {} : { startedBy: spec.startedBy }),
    ...(tags.length > 0 ? { tags } : {}),
  };
  let task: Task;
  if (spec.containerInstance) {
    // RunTask on the EC2 launch type places the task on the cluster's container instance.
    const out = await clients.ecs.send(new RunTaskCommand({ ...common, launchType: "EC2", count: 1 }));
    task = required(out.tasks?.[0], "a task");
  } else {
    const network = required(spec.network, "a network for an awsvpc task (test input)");
    const out = await clients.ecs.send(
      new RunTaskCommand({
        ...common,
        launchType: "FARGATE",
        count: 1,
        networkConfiguration: {
          awsvpcConfiguration: { subnets: [network.subnetIds[0]], securityGroups: [...network.securityGroupIds], assignPublicIp: "DISABLED" },
        },
      }),
    );
    task = required(out.tasks?.[0], "a task");
  }
  const taskArn = required(task.taskArn, "a task ARN");
  const eniId = taskEniId(task);
  let eniGroups: string[] = [];
  let privateIp: string | null = null;
  if (eniId) {
    const eni = await clients.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }));
    const found = required(eni.NetworkInterfaces?.[0], `the task ENI ${eniId}`);
    eniGroups = (found.Groups ?? []).map((g) => required(g.GroupId, "a group id"));
    privateIp = found.PrivateIpAddress ?? null;
  }
  const images = (
    await clients.ecs.send(new DescribeTasksCommand({ cluster: spec.cluster.clusterName, tasks: [taskArn] }))
  ).tasks?.[0]?.containers?.map((c) => c.image ?? "") ?? [];
  return {
    cluster: spec.cluster,
    taskArn,
    taskDefinitionArn: definition.taskDefinitionArn,
    launchType: bridge ? "EC2" : "FARGATE",
    eniId,
    eniGroups,
    privateIp,
    containerInstanceArn: task.containerInstanceArn ?? null,
    group: task.group ?? spec.group ?? null,
    images,
  };
}

function taskEniId(task: Task): string | null {
  const attachment = task.attachments?.find((a) => a.type === "ElasticNetworkInterface");
  return attachment?.details?.find((d) => d.name === "networkInterfaceId")?.value ?? null;
}

export interface SeededContainerInstance {
  cluster: SeededCluster;
  containerInstanceArn: string;
  /** The moto EC2 instance the identity document names. */
  instanceId: string;
  volumeIds: string[];
}

// moto lists ~1300 built-in images (almost a second per call): one look-up per client.
const images = new WeakMap<EC2Client, Promise<string>>();
function anyImage(ec2: EC2Client): Promise<string> {
  let image = images.get(ec2);
  if (!image) {
    image = ec2.send(new DescribeImagesCommand({ Owners: ["amazon"] })).then((out) => required(out.Images?.[0]?.ImageId, "an AMI"));
    images.set(ec2, image);
  }
  return image;
}

/** An EC2 instance in `network`, registered in the cluster as a container instance. */
export async function seedContainerInstance(
  clients: EcsSeedClients,
  cluster: SeededCluster,
  network: SeededTaskNetwork,
): Promise<SeededContainerInstance> {
  const run = await clients.ec2.send(
    new RunInstancesCommand({
      ImageId: await anyImage(clients.ec2),
      InstanceType: "m5.large",
      MinCount: 1,
      MaxCount: 1,
      SubnetId: network.subnetIds[0],
      SecurityGroupIds: [network.securityGroupIds[0]],
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { VolumeSize: 30, DeleteOnTermination: true } }],
    }),
  );
  const instance = required(run.Instances?.[0], "an instance");
  const instanceId = required(instance.InstanceId, "an instance id");
  const document = JSON.stringify({
    accountId: MOTO_ACCOUNT_ID,
    instanceId,
    region: "us-east-1",
    availabilityZone: "us-east-1a",
    instanceType: "m5.large",
    imageId: instance.ImageId,
    privateIp: instance.PrivateIpAddress,
  });
  const out = await clients.ecs.send(
    new RegisterContainerInstanceCommand({
      cluster: cluster.clusterName,
      instanceIdentityDocument: document,
      totalResources: [
        { name: "CPU", type: "INTEGER", integerValue: 2048 },
        { name: "MEMORY", type: "INTEGER", integerValue: 8192 },
      ],
    }),
  );
  return {
    cluster,
    containerInstanceArn: required(out.containerInstance?.containerInstanceArn, "a container instance ARN"),
    instanceId,
    volumeIds: (instance.BlockDeviceMappings ?? []).map((m) => required(m.Ebs?.VolumeId, "a volume id")),
  };
}

export interface SeededTargetGroup {
  targetGroupArn: string;
  port: number;
}

/**
 * An application load balancer with an `ip` target group (awsvpc tasks) or an `instance` one
 * (bridge tasks), and a listener forwarding to it.
 */
export async function seedTargetGroup(
  clients: Pick<EcsSeedClients, "elbv2">,
  network: SeededTaskNetwork,
  targetType: "ip" | "instance",
  port = 8080,
): Promise<SeededTargetGroup> {
  const n = next();
  const lb = await clients.elbv2.send(
    new CreateLoadBalancerCommand({ Name: `ecs-lb-${n}`, Subnets: [...network.subnetIds], SecurityGroups: [network.securityGroupIds[0]] }),
  );
  const tg = await clients.elbv2.send(
    new CreateTargetGroupCommand({ Name: `ecs-tg-${n}`, Protocol: "HTTP", Port: port, VpcId: network.vpcId, TargetType: targetType }),
  );
  const targetGroupArn = required(tg.TargetGroups?.[0]?.TargetGroupArn, "a target group ARN");
  await clients.elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: required(lb.LoadBalancers?.[0]?.LoadBalancerArn, "a load balancer ARN"),
      Protocol: "HTTP",
      Port: 80,
      DefaultActions: [{ Type: "forward", TargetGroupArn: targetGroupArn }],
    }),
  );
  return { targetGroupArn, port };
}

export interface SeededService {
  serviceName: string;
  serviceArn: string;
  task: SeededTask;
  targetGroup: SeededTargetGroup | null;
}

/**
 * A service and one task of it. moto's CreateService starts no task, so the task is a RunTask with
 * the service's group and an `ecs-svc/…` startedBy; and ECS registers a service task in the
 * service's target group itself, which moto does not, so that is done here (ip + port for awsvpc,
 * instance + host port for bridge).
 */
export async function seedServiceTask(
  clients: EcsSeedClients,
  spec: { cluster: SeededCluster; network: SeededTaskNetwork; image: string; containerInstance?: SeededContainerInstance; loadBalanced?: boolean },
): Promise<SeededService> {
  const serviceName = `svc-${next()}`;
  const bridge = spec.containerInstance !== undefined;
  const definition = await registerTaskDefinition(clients, {
    networkMode: bridge ? "bridge" : "awsvpc",
    containers: [{ name: "app", image: spec.image, port: 8080 }],
  });
  const targetGroup = (spec.loadBalanced ?? true) ? await seedTargetGroup(clients, spec.network, bridge ? "instance" : "ip") : null;
  const service = await clients.ecs.send(
    new CreateServiceCommand({
      cluster: spec.cluster.clusterName,
      serviceName,
      taskDefinition: definition.taskDefinitionArn,
      desiredCount: 1,
      launchType: bridge ? "EC2" : "FARGATE",
      ...(targetGroup ? { loadBalancers: [{ targetGroupArn: targetGroup.targetGroupArn, containerName: "app", containerPort: 8080 }] } : {}),
      ...(bridge
        ? {}
        : { networkConfiguration: { awsvpcConfiguration: { subnets: [spec.network.subnetIds[0]], securityGroups: [...spec.network.securityGroupIds] } } }),
    }),
  );
  const task = await runTask(clients, {
    cluster: spec.cluster,
    taskDefinition: definition,
    network: spec.network,
    ...(spec.containerInstance ? { containerInstance: spec.containerInstance } : {}),
    group: `service:${serviceName}`,
    startedBy: `ecs-svc/${String(next()).padStart(19, "0")}`,
  });
  if (targetGroup) {
    const target = bridge
      ? { Id: required(spec.containerInstance?.instanceId, "the host"), Port: 8080 }
      : { Id: required(task.privateIp, "the task's IP"), Port: 8080 };
    await clients.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroup.targetGroupArn, Targets: [target] }));
  }
  return { serviceName, serviceArn: required(service.service?.serviceArn, "a service ARN"), task, targetGroup };
}

export interface TaskView {
  lastStatus: string | null;
  desiredStatus: string | null;
  stoppedReason: string | null;
  tags: Record<string, string>;
  /** The task ENI's groups now (moto keeps the ENI after StopTask; AWS deletes it). */
  eniGroups: string[] | null;
  /** Scale-in protection as ECS reports it (GetTaskProtection). */
  protectionEnabled: boolean | null;
}

export async function viewTask(clients: EcsSeedClients, task: Pick<SeededTask, "cluster" | "taskArn" | "eniId">): Promise<TaskView> {
  const out = await clients.ecs.send(new DescribeTasksCommand({ cluster: task.cluster.clusterName, tasks: [task.taskArn], include: ["TAGS"] }));
  const found = out.tasks?.[0];
  const tags = await clients.ecs.send(new ListTagsForResourceCommand({ resourceArn: task.taskArn }));
  let eniGroups: string[] | null = null;
  if (task.eniId) {
    const eni = await clients.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "network-interface-id", Values: [task.eniId] }] }));
    const first = eni.NetworkInterfaces?.[0];
    eniGroups = first ? (first.Groups ?? []).map((g) => g.GroupId ?? "") : null;
  }
  return {
    lastStatus: found?.lastStatus ?? null,
    desiredStatus: found?.desiredStatus ?? null,
    stoppedReason: found?.stoppedReason ?? null,
    tags: Object.fromEntries((tags.tags ?? []).map((t) => [t.key ?? "", t.value ?? ""])),
    eniGroups,
    protectionEnabled: await taskProtection(clients, task),
  };
}

/** null when moto cannot say (GetTaskProtection not implemented). */
async function taskProtection(clients: EcsSeedClients, task: Pick<SeededTask, "cluster" | "taskArn">): Promise<boolean | null> {
  try {
    const out = await clients.ecs.send(new GetTaskProtectionCommand({ cluster: task.cluster.clusterName, tasks: [task.taskArn] }));
    return out.protectedTasks?.[0]?.protectionEnabled ?? null;
  } catch {
    return null;
  }
}

export interface ContainerInstanceView {
  status: string | null;
  /** The tasks DescribeTasks places on it (ListTasks by containerInstance 500s with Fargate tasks present). */
  runningTaskArns: string[];
}

export async function viewContainerInstance(clients: EcsSeedClients, seeded: SeededContainerInstance, taskArns: readonly string[]): Promise<ContainerInstanceView> {
  const out = await clients.ecs.send(
    new DescribeContainerInstancesCommand({ cluster: seeded.cluster.clusterName, containerInstances: [seeded.containerInstanceArn] }),
  );
  const tasks =
    taskArns.length === 0 ? [] : ((await clients.ecs.send(new DescribeTasksCommand({ cluster: seeded.cluster.clusterName, tasks: [...taskArns] }))).tasks ?? []);
  return {
    status: out.containerInstances?.[0]?.status ?? null,
    runningTaskArns: tasks
      .filter((t) => t.containerInstanceArn === seeded.containerInstanceArn && t.lastStatus === "RUNNING")
      .map((t) => t.taskArn ?? ""),
  };
}

/** The target ids a target group holds now. */
export async function targetIds(clients: Pick<EcsSeedClients, "elbv2">, targetGroupArn: string): Promise<string[]> {
  const out = await clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  return (out.TargetHealthDescriptions ?? []).map((d) => `${d.Target?.Id ?? ""}:${d.Target?.Port ?? ""}`);
}

/** A Runtime Monitoring finding that names a seeded task, so ingest routes it to the ECS task playbook. */
export function findingForTask(task: SeededTask, options: EcsFindingOptions = {}): JsonObject {
  return ecsFinding({
    accountId: MOTO_ACCOUNT_ID,
    clusterName: task.cluster.clusterName,
    taskArn: task.taskArn,
    definitionArn: task.taskDefinitionArn,
    launchType: task.launchType,
    group: task.group ?? `family:${task.taskDefinitionArn.split("/").pop()?.split(":")[0] ?? "app"}`,
    ...(task.images.length > 0 ? { containers: task.images.map((image, i) => ({ name: i === 0 ? "app" : `c${i}`, image })) } : {}),
    ...options,
  });
}

/**
 * Task scale-in protection on the worker's own ECS client. moto 5.2.5 answers UpdateTaskProtection
 * and GetTaskProtection with HTTP 500 (not implemented): this fake answers them as ECS does (a
 * service task is protected; a standalone one is a TASK_NOT_VALID failure; GetTaskProtection
 * reports what was set) and records what was sent, so tests assert on the calls and on the state
 * ECS would hold. Everything else still goes to moto.
 */
export interface TaskProtectionFake {
  /** Task ARN → protection as set through the worker's calls. */
  readonly protectedTasks: Map<string, { enabled: boolean; expiresInMinutes: number | null }>;
  /** The UpdateTaskProtection inputs the worker sent. */
  readonly updates: { tasks: string[]; protectionEnabled: boolean; expiresInMinutes?: number }[];
  /** Tasks answered TASK_NOT_VALID (standalone tasks, as ECS answers for them). */
  readonly standalone: Set<string>;
  install(clients: AwsClients): void;
}

export function taskProtectionFake(): TaskProtectionFake {
  const protectedTasks = new Map<string, { enabled: boolean; expiresInMinutes: number | null }>();
  const updates: TaskProtectionFake["updates"] = [];
  const standalone = new Set<string>();
  let installed = 0;
  return {
    protectedTasks,
    updates,
    standalone,
    install(clients) {
      const middleware: InitializeMiddleware<object, object> = (next, context) => async (args) => {
        const input = args.input as { tasks?: string[]; protectionEnabled?: boolean; expiresInMinutes?: number };
        const tasks = input.tasks ?? [];
        if (context.commandName === "UpdateTaskProtectionCommand") {
          updates.push({ tasks, protectionEnabled: input.protectionEnabled ?? false, ...(input.expiresInMinutes === undefined ? {} : { expiresInMinutes: input.expiresInMinutes }) });
          const failures = tasks.filter((t) => standalone.has(t)).map((arn) => ({ arn, reason: "TASK_NOT_VALID" }));
          const done = tasks.filter((t) => !standalone.has(t));
          for (const t of done) protectedTasks.set(t, { enabled: input.protectionEnabled ?? false, expiresInMinutes: input.protectionEnabled ? (input.expiresInMinutes ?? 120) : null });
          return { output: { $metadata: {}, protectedTasks: done.map((taskArn) => ({ taskArn, protectionEnabled: input.protectionEnabled ?? false })), failures }, response: {} };
        }
        if (context.commandName === "GetTaskProtectionCommand") {
          return {
            output: { $metadata: {}, protectedTasks: tasks.map((taskArn) => ({ taskArn, protectionEnabled: protectedTasks.get(taskArn)?.enabled ?? false })), failures: [] },
            response: {},
          };
        }
        return next(args);
      };
      (clients.ecs as unknown as { middlewareStack: MiddlewareStack<object, object> }).middlewareStack.add(middleware, {
        step: "initialize",
        name: `task-protection-fake-${++installed}`,
      });
    },
  };
}
