// The hunt: every user of the image in the account and region, read from ECS (never guessed).
// Every cluster's RUNNING tasks (their containers as DescribeTasks reports them, and their task
// definition's containers: DescribeTasks may report only some containers, and a container
// pulled by tag carries no digest until the agent reports one), every ACTIVE task definition, and
// the services whose task definition is among those found. Every list is paged to its end within
// the bounds (bounds.ts); every identifier is checked before it is named in another call.
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListClustersCommand,
  ListServicesCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  type Service,
} from "@aws-sdk/client-ecs";
import { ECS_CLUSTER_ARN, ECS_TASK_ARN, ECS_TASK_DEFINITION_ARN } from "@gdr/core/findings/patterns";
import { expectId, type StepContext } from "../kit/index.js";
import { ECS_READ } from "../kit/families.js";
import { within, type HuntBounds } from "./bounds.js";
import { matchAny, matchUnreported, type ContainerImage, type ImageTarget, type MatchedBy } from "./match.js";
import { ECS_SERVICE_ARN } from "./names.js";
import type { Users, UserService, UserTask } from "./users.js";

/** DescribeTasks takes up to 100 tasks, DescribeServices up to 10 services (ECS API Reference). */
const DESCRIBE_TASKS_MAX = 100;
const DESCRIBE_SERVICES_MAX = 10;
/** The largest page ListClusters, ListTasks, ListTaskDefinitions and ListServices return. */
const PAGE = 100;

type Ctx = Pick<StepContext, "read">;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Pages a list to its end; `bound` sees the running count and throws past the bound. */
async function listAll(page: (token: string | undefined) => Promise<{ items: string[] | undefined; next: string | undefined }>, bound: (count: number) => void): Promise<string[]> {
  const all: string[] = [];
  let token: string | undefined;
  do {
    const out = await page(token);
    all.push(...(out.items ?? []));
    bound(all.length);
    token = out.next;
  } while (token);
  return all;
}

/** Each task definition's containers, described once per hunt. */
function definitionReader(ctx: Ctx): (arn: string) => Promise<ContainerImage[]> {
  const known = new Map<string, Promise<ContainerImage[]>>();
  return (arn) => {
    let found = known.get(arn);
    if (!found) {
      found = ctx
        .read("ecs", ECS_READ, new DescribeTaskDefinitionCommand({ taskDefinition: arn }))
        .then((out) => (out.taskDefinition?.containerDefinitions ?? []).map((c) => ({ name: c.name, image: c.image })));
      known.set(arn, found);
    }
    return found;
  };
}

async function runningTasks(ctx: Ctx, clusterArn: string, target: ImageTarget, containersOf: (arn: string) => Promise<ContainerImage[]>, count: { tasks: number }, bounds: HuntBounds): Promise<UserTask[]> {
  const before = count.tasks;
  const arns = await listAll(
    async (token) => {
      const out = await ctx.read("ecs", ECS_READ, new ListTasksCommand({ cluster: clusterArn, desiredStatus: "RUNNING", maxResults: PAGE, nextToken: token }));
      return { items: out.taskArns, next: out.nextToken };
    },
    (n) => {
      within(bounds, "tasks", before + n);
    },
  );
  count.tasks = before + arns.length;
  const found: UserTask[] = [];
  for (const batch of chunks(arns.map((a) => expectId(ECS_TASK_ARN, a, "a task ARN ListTasks returned")), DESCRIBE_TASKS_MAX)) {
    const out = await ctx.read("ecs", ECS_READ, new DescribeTasksCommand({ cluster: clusterArn, tasks: batch }));
    for (const task of out.tasks ?? []) {
      const taskArn = expectId(ECS_TASK_ARN, task.taskArn, "a task ARN DescribeTasks returned");
      const taskDefinitionArn = expectId(ECS_TASK_DEFINITION_ARN, task.taskDefinitionArn, `task ${taskArn}'s task definition`);
      let matchedBy: MatchedBy | null = matchAny(target, task.containers ?? []);
      let via: UserTask["via"] = "task";
      if (matchedBy === null) {
        matchedBy = matchUnreported(target, task.containers ?? [], await containersOf(taskDefinitionArn));
        via = "task-definition";
      }
      if (matchedBy !== null) found.push({ clusterArn, taskArn, taskDefinitionArn, group: task.group ?? null, matchedBy, via });
    }
  }
  return found;
}

async function activeDefinitions(ctx: Ctx, target: ImageTarget, containersOf: (arn: string) => Promise<ContainerImage[]>, bounds: HuntBounds): Promise<{ searched: number; found: Users["taskDefinitions"] }> {
  const arns = await listAll(
    async (token) => {
      const out = await ctx.read("ecs", ECS_READ, new ListTaskDefinitionsCommand({ status: "ACTIVE", maxResults: PAGE, nextToken: token }));
      return { items: out.taskDefinitionArns, next: out.nextToken };
    },
    (n) => {
      within(bounds, "taskDefinitions", n);
    },
  );
  const found: Users["taskDefinitions"] = [];
  for (const raw of arns) {
    const taskDefinitionArn = expectId(ECS_TASK_DEFINITION_ARN, raw, "a task definition ARN ListTaskDefinitions returned");
    const matchedBy = matchAny(target, await containersOf(taskDefinitionArn));
    if (matchedBy !== null) found.push({ taskDefinitionArn, matchedBy });
  }
  return { searched: arns.length, found };
}

/** The task definition (current, or of a deployment) of the service that is among `using`. */
function definitionUsed(service: Service, using: ReadonlySet<string>): string | null {
  const candidates = [service.taskDefinition, ...(service.deployments ?? []).map((d) => d.taskDefinition)];
  return candidates.find((arn): arn is string => arn !== undefined && using.has(arn)) ?? null;
}

async function servicesUsing(ctx: Ctx, clusterArn: string, using: ReadonlySet<string>, count: { services: number }, bounds: HuntBounds): Promise<UserService[]> {
  const before = count.services;
  const arns = await listAll(
    async (token) => {
      const out = await ctx.read("ecs", ECS_READ, new ListServicesCommand({ cluster: clusterArn, maxResults: PAGE, nextToken: token }));
      return { items: out.serviceArns, next: out.nextToken };
    },
    (n) => {
      within(bounds, "services", before + n);
    },
  );
  count.services = before + arns.length;
  const found: UserService[] = [];
  for (const batch of chunks(arns.map((a) => expectId(ECS_SERVICE_ARN, a, "a service ARN ListServices returned")), DESCRIBE_SERVICES_MAX)) {
    const out = await ctx.read("ecs", ECS_READ, new DescribeServicesCommand({ cluster: clusterArn, services: batch }));
    for (const service of out.services ?? []) {
      const used = definitionUsed(service, using);
      if (used === null) continue;
      found.push({
        clusterArn,
        serviceArn: expectId(ECS_SERVICE_ARN, service.serviceArn, "a service ARN DescribeServices returned"),
        serviceName: service.serviceName ?? "",
        taskDefinitionArn: expectId(ECS_TASK_DEFINITION_ARN, used, `service ${service.serviceName ?? ""}'s task definition`),
        desiredCount: service.desiredCount ?? 0,
      });
    }
  }
  return found;
}

export async function huntUsers(ctx: Ctx, target: ImageTarget, bounds: HuntBounds): Promise<Users> {
  const clusters = (
    await listAll(
      async (token) => {
        const out = await ctx.read("ecs", ECS_READ, new ListClustersCommand({ maxResults: PAGE, nextToken: token }));
        return { items: out.clusterArns, next: out.nextToken };
      },
      (n) => {
        within(bounds, "clusters", n);
      },
    )
  ).map((arn) => expectId(ECS_CLUSTER_ARN, arn, "a cluster ARN ListClusters returned"));
  const containersOf = definitionReader(ctx);
  const count = { tasks: 0, services: 0 };
  const tasks: UserTask[] = [];
  for (const clusterArn of clusters) tasks.push(...(await runningTasks(ctx, clusterArn, target, containersOf, count, bounds)));
  const definitions = await activeDefinitions(ctx, target, containersOf, bounds);
  const using = new Set([...definitions.found.map((d) => d.taskDefinitionArn), ...tasks.map((t) => t.taskDefinitionArn)]);
  const services: UserService[] = [];
  for (const clusterArn of clusters) services.push(...(await servicesUsing(ctx, clusterArn, using, count, bounds)));
  return {
    clustersSearched: clusters.length,
    tasksSearched: count.tasks,
    taskDefinitionsSearched: definitions.searched,
    tasks,
    taskDefinitions: definitions.found,
    services,
  };
}
