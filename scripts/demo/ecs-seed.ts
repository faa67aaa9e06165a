// The demo's ECS world in moto: one cluster running the same ECR image three ways, so that each ECS
// path of issue 10 has something real to act on. moto's fixture rules (/work/shared/MOTO.md) shape
// it: every container has `memory`; the awsvpc tasks run in the default VPC (it has DNS hostnames);
// the task lifecycle is pinned, or the tasks would read STOPPED after a few DescribeTasks; the
// image gets layer digests of its own (moto derives the image digest from them); CreateService
// starts no task, so the service's task is started with RunTask in the service's group.
import { randomBytes } from "node:crypto";
import { CreateRepositoryCommand, PutImageCommand, type ECRClient } from "@aws-sdk/client-ecr";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeTasksCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type ECSClient,
  type NetworkConfiguration,
  type Task,
} from "@aws-sdk/client-ecs";
import { CreateSecurityGroupCommand, DescribeSubnetsCommand, DescribeVpcsCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { seedInstance, type SeedClients, type SeededInstance, type SeededVpc } from "../../test/support/index.js";

export const ECS_CLUSTER = "payments";
const ECS_SERVICE = "payments-api";
const REPOSITORY = "payments-api";
const IMAGE_TAG = "1.8.2";

/** A task moto runs, with what its finding and the report need. */
export interface SeededTask {
  label: string;
  taskArn: string;
  taskDefinitionArn: string;
  launchType: "FARGATE" | "EC2";
  group: string;
  startedBy: string;
  /** The task ENI and the groups it was started with (awsvpc only). */
  eni: { id: string; groups: string[] } | null;
  /** The container instance it runs on (EC2 launch type only). */
  containerInstanceArn: string | null;
}

export interface SeededEcs {
  clusterArn: string;
  serviceName: string;
  repositoryName: string;
  /** `<registry>/<repository>`, as a task definition names it with a tag. */
  repositoryUri: string;
  imageReference: string;
  imageDigest: string;
  /** Started by the service payments-api (group service:payments-api), Fargate, awsvpc. */
  serviceTask: SeededTask;
  /** A standalone Fargate task of another definition using the same image: the image finding's. */
  reportsTask: SeededTask;
  /** EC2 launch type, bridge networking, on `host`. */
  bridgeTask: SeededTask;
  host: SeededInstance;
}

function required<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`moto did not return ${what}`);
  return value;
}

/**
 * Seeds the ECS world; `hostVpc` is where the container instance's EC2 instance goes (the
 * instances' VPC, so the host's containment looks like theirs in the report).
 */
export async function seedEcs(endpoint: string, clients: SeedClients & { ecs: ECSClient; ecr: ECRClient }, hostVpc: SeededVpc): Promise<SeededEcs> {
  await pinTaskLifecycle(endpoint);
  const { ecs } = clients;
  const image = await pushImage(clients.ecr);
  const cluster = await ecs.send(new CreateClusterCommand({ clusterName: ECS_CLUSTER }));
  const clusterArn = required(cluster.cluster?.clusterArn, "a cluster ARN");

  const network = await fargateNetwork(clients.ec2);
  const fargateDefinition = (family: string, container: string) =>
    registerDefinition(ecs, {
      family,
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      cpu: "256",
      memory: "512",
      containerDefinitions: [{ name: container, image: image.reference, memory: 512, essential: true }],
    });
  const apiDefinition = await fargateDefinition("payments-api", "api");
  const reportsDefinition = await fargateDefinition("payments-reports", "reports");
  const batchDefinition = await registerDefinition(ecs, {
    family: "legacy-batch",
    networkMode: "bridge",
    requiresCompatibilities: ["EC2"],
    containerDefinitions: [{ name: "batch", image: image.reference, memory: 256, essential: true }],
  });

  await ecs.send(
    new CreateServiceCommand({
      cluster: ECS_CLUSTER,
      serviceName: ECS_SERVICE,
      taskDefinition: apiDefinition,
      desiredCount: 1,
      launchType: "FARGATE",
      networkConfiguration: network,
    }),
  );
  const serviceTask = await runTask(ecs, "Fargate task of service payments-api", {
    taskDefinition: apiDefinition,
    launchType: "FARGATE",
    networkConfiguration: network,
    group: `service:${ECS_SERVICE}`,
    startedBy: "ecs-svc/1234567890123456789",
  });
  const reportsTask = await runTask(ecs, "standalone Fargate task payments-reports", {
    taskDefinition: reportsDefinition,
    launchType: "FARGATE",
    networkConfiguration: network,
    startedBy: "nightly-reports",
  });

  // The host: an EC2 instance moto holds, registered as the cluster's container instance by its
  // identity document (moto reads the instance id from it).
  const host = await seedInstance(clients, { vpc: hostVpc, autoScaling: false, targetGroup: false });
  await ecs.send(
    new RegisterContainerInstanceCommand({
      cluster: ECS_CLUSTER,
      instanceIdentityDocument: JSON.stringify({ instanceId: host.instanceId, region: "us-east-1", accountId: "123456789012", instanceType: "t3.micro" }),
    }),
  );
  const bridgeTask = await runTask(ecs, "bridge task legacy-batch on a container instance", {
    taskDefinition: batchDefinition,
    launchType: "EC2",
    startedBy: "cron",
  });

  return {
    clusterArn,
    serviceName: ECS_SERVICE,
    repositoryName: REPOSITORY,
    repositoryUri: image.repositoryUri,
    imageReference: image.reference,
    imageDigest: image.digest,
    serviceTask,
    reportsTask,
    bridgeTask,
    host,
  };
}

/** Keeps every task RUNNING however often it is described (moto's state manager). */
async function pinTaskLifecycle(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/state-manager/set-transition`, {
    method: "POST",
    body: JSON.stringify({ model_name: "ecs::task", transition: { progression: "manual", times: 1_000_000_000 } }),
  });
  if (!res.ok) throw new Error(`moto's state manager answered ${res.status}`);
  await res.body?.cancel();
}

async function pushImage(ecr: ECRClient): Promise<{ repositoryUri: string; reference: string; digest: string }> {
  const repo = await ecr.send(new CreateRepositoryCommand({ repositoryName: REPOSITORY }));
  const repositoryUri = required(repo.repository?.repositoryUri, "a repository URI");
  // Fresh layer digests: moto computes the image digest from them, not from the manifest.
  const layer = (): string => `sha256:${randomBytes(32).toString("hex")}`;
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.docker.distribution.manifest.v2+json",
    config: { mediaType: "application/vnd.docker.container.image.v1+json", size: 1_469, digest: layer() },
    layers: [
      { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 3_370_628, digest: layer() },
      { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 18_224_014, digest: layer() },
    ],
  };
  const put = await ecr.send(new PutImageCommand({ repositoryName: REPOSITORY, imageManifest: JSON.stringify(manifest), imageTag: IMAGE_TAG }));
  const digest = required(put.image?.imageId?.imageDigest, "an image digest");
  return { repositoryUri, reference: `${repositoryUri}:${IMAGE_TAG}`, digest };
}

/** The default VPC (DNS hostnames on, which awsvpc tasks need in moto), a subnet and two groups of the task's own. */
async function fargateNetwork(ec2: EC2Client): Promise<NetworkConfiguration> {
  const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }));
  const vpcId = required(vpcs.Vpcs?.[0]?.VpcId, "the default VPC");
  const subnets = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }));
  const subnetId = required(subnets.Subnets?.[0]?.SubnetId, "a default subnet");
  const groups: string[] = [];
  for (const name of ["payments-api-ingress", "payments-db-client"]) {
    const out = await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpcId }));
    groups.push(required(out.GroupId, "a security group id"));
  }
  return { awsvpcConfiguration: { subnets: [subnetId], securityGroups: groups, assignPublicIp: "DISABLED" } };
}

async function registerDefinition(ecs: ECSClient, input: ConstructorParameters<typeof RegisterTaskDefinitionCommand>[0]): Promise<string> {
  const out = await ecs.send(new RegisterTaskDefinitionCommand(input));
  return required(out.taskDefinition?.taskDefinitionArn, "a task definition ARN");
}

async function runTask(
  ecs: ECSClient,
  label: string,
  input: { taskDefinition: string; launchType: "FARGATE" | "EC2"; networkConfiguration?: NetworkConfiguration; group?: string; startedBy: string },
): Promise<SeededTask> {
  const out = await ecs.send(new RunTaskCommand({ cluster: ECS_CLUSTER, count: 1, ...input }));
  const started = required(out.tasks?.[0], `a task for ${label}`);
  const taskArn = required(started.taskArn, "a task ARN");
  // The ENI is in DescribeTasks' attachments; read back the way the playbook will find it.
  const described = await ecs.send(new DescribeTasksCommand({ cluster: ECS_CLUSTER, tasks: [taskArn] }));
  const task: Task = required(described.tasks?.[0], `the described task ${taskArn}`);
  const eniId = task.attachments
    ?.find((a) => a.type === "ElasticNetworkInterface")
    ?.details?.find((d) => d.name === "networkInterfaceId")?.value;
  return {
    label,
    taskArn,
    taskDefinitionArn: input.taskDefinition,
    launchType: input.launchType,
    group: required(task.group, "the task's group"),
    startedBy: input.startedBy,
    eni: eniId ? { id: eniId, groups: input.networkConfiguration?.awsvpcConfiguration?.securityGroups ?? [] } : null,
    containerInstanceArn: task.containerInstanceArn ?? null,
  };
}
