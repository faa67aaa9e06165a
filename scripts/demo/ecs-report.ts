// What moto holds of the demo's ECS world after the worker ran: each task's status and tags, its
// ENI's groups, the container instance, the service, the task definitions and the image. Read with
// plain SDK calls, never through the playbooks, like the instances' report.
import { BatchGetImageCommand, type ECRClient } from "@aws-sdk/client-ecr";
import {
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTagsForResourceCommand,
  type ECSClient,
} from "@aws-sdk/client-ecs";
import { DescribeNetworkInterfacesCommand, DescribeSecurityGroupsCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { ECS_CLUSTER, type SeededEcs, type SeededTask } from "./ecs-seed.js";

export interface EcsClients {
  ecs: ECSClient;
  ecr: ECRClient;
  ec2: EC2Client;
}

/** One task as moto holds it now. */
export interface TaskView {
  lastStatus: string;
  stoppedReason: string | null;
  tags: Record<string, string>;
  /** The task ENI's groups now, by id (awsvpc only). */
  eniGroups: string[] | null;
}

export interface EcsView {
  tasks: Map<string, TaskView>;
  containerInstanceStatus: string;
  serviceStatus: string;
  /** ACTIVE or INACTIVE, by task definition ARN. */
  definitions: Map<string, string>;
  imagePresent: boolean;
}

export async function viewEcs(clients: EcsClients, seeded: SeededEcs): Promise<EcsView> {
  const all = [seeded.serviceTask, seeded.reportsTask, seeded.bridgeTask];
  const described = await clients.ecs.send(new DescribeTasksCommand({ cluster: ECS_CLUSTER, tasks: all.map((t) => t.taskArn) }));
  const tasks = new Map<string, TaskView>();
  for (const seededTask of all) {
    const task = described.tasks?.find((t) => t.taskArn === seededTask.taskArn);
    const tags = await clients.ecs.send(new ListTagsForResourceCommand({ resourceArn: seededTask.taskArn }));
    tasks.set(seededTask.taskArn, {
      lastStatus: task?.lastStatus ?? "gone",
      stoppedReason: task?.stoppedReason ?? null,
      tags: Object.fromEntries((tags.tags ?? []).map((t) => [t.key ?? "?", t.value ?? ""])),
      eniGroups: seededTask.eni ? await eniGroups(clients.ec2, seededTask.eni.id) : null,
    });
  }
  const instances = await clients.ecs.send(
    new DescribeContainerInstancesCommand({ cluster: ECS_CLUSTER, containerInstances: [seeded.bridgeTask.containerInstanceArn ?? "none"] }),
  );
  const services = await clients.ecs.send(new DescribeServicesCommand({ cluster: ECS_CLUSTER, services: [seeded.serviceName] }));
  const definitions = new Map<string, string>();
  for (const arn of new Set(all.map((t) => t.taskDefinitionArn))) {
    const out = await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
    definitions.set(arn, out.taskDefinition?.status ?? "gone");
  }
  // BatchGetImage answers a deleted digest in `failures` (ImageNotFound) rather than throwing.
  const image = await clients.ecr.send(new BatchGetImageCommand({ repositoryName: seeded.repositoryName, imageIds: [{ imageDigest: seeded.imageDigest }] }));
  return {
    tasks,
    containerInstanceStatus: instances.containerInstances?.[0]?.status ?? "gone",
    serviceStatus: `${services.services?.[0]?.status ?? "gone"}, desired ${services.services?.[0]?.desiredCount ?? 0}`,
    definitions,
    imagePresent: (image.images ?? []).length > 0,
  };
}

async function eniGroups(ec2: EC2Client, eniId: string): Promise<string[]> {
  const out = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }));
  return (out.NetworkInterfaces?.[0]?.Groups ?? []).map((g) => g.GroupId ?? "?");
}

/** Prints the view: the tasks first (as the instances are printed), then what they share. */
export async function reportEcs(clients: EcsClients, seeded: SeededEcs, view: EcsView, when: string): Promise<void> {
  const groups = await clients.ec2.send(new DescribeSecurityGroupsCommand({}));
  const byId = new Map((groups.SecurityGroups ?? []).map((g) => [g.GroupId, g]));
  const groupText = (id: string): string => {
    const g = byId.get(id);
    const rules = (g?.IpPermissions?.length ?? 0) + (g?.IpPermissionsEgress?.length ?? 0);
    return `${g?.GroupName ?? id} (${rules} rules)`;
  };
  console.log(`\nECS in moto, ${when} (cluster ${ECS_CLUSTER}, image ${seeded.imageReference}):`);
  for (const task of [seeded.serviceTask, seeded.reportsTask, seeded.bridgeTask]) {
    const v = view.tasks.get(task.taskArn);
    if (!v) continue;
    console.log(`  ${task.label}: ${taskId(task)}`);
    const reason = v.stoppedReason ? ` (${v.stoppedReason})` : "";
    const tags = Object.entries(v.tags).map(([k, value]) => `${k}=${value}`);
    console.log(`      ${v.lastStatus}${reason}`);
    console.log(`      tags: ${tags.length > 0 ? tags.join(", ") : "none"}`);
    if (task.eni && v.eniGroups) {
      const was = task.eni.groups.map(groupText).join(", ");
      const now = v.eniGroups.map(groupText).join(", ");
      console.log(`      ${task.eni.id}: ${now}${now === was ? "" : `  (was ${was})`}`);
    }
    if (task.containerInstanceArn) {
      console.log(`      container instance ${shortArn(task.containerInstanceArn)} on ${seeded.host.instanceId}: ${view.containerInstanceStatus}`);
    }
  }
  console.log(`  service ${seeded.serviceName}: ${view.serviceStatus}`);
  for (const [arn, status] of view.definitions) console.log(`  task definition ${shortArn(arn)}: ${status}`);
  console.log(`  image ${seeded.imageDigest.slice(0, 19)}… in ECR ${seeded.repositoryName}: ${view.imagePresent ? "present" : "deleted"}`);
}

function taskId(task: SeededTask): string {
  return task.taskArn.slice(task.taskArn.lastIndexOf("/") + 1);
}

/** The part of an ARN after its resource type: `payments/0f3…`, `legacy-batch:1`. */
export function shortArn(arn: string): string {
  const slash = arn.indexOf("/");
  return slash < 0 ? arn : arn.slice(slash + 1);
}
