// What is left of the image's users now, read from ECS and ECR: the destructive step's check (is
// there anything left to do?) and its verification (is everything done?) read the same way.
import { DescribeImagesCommand } from "@aws-sdk/client-ecr";
import { DescribeTaskDefinitionCommand, DescribeTasksCommand } from "@aws-sdk/client-ecs";
import { isErrorCode, type StepContext } from "../kit/index.js";
import { ECR_READ, ECS_READ } from "../kit/families.js";
import { ECR, ECS } from "./errors.js";
import type { ImageInRepository } from "./scan.js";
import type { UserTask } from "./users.js";

type Ctx = Pick<StepContext, "read">;

const DESCRIBE_TASKS_MAX = 100;

/** StopTask sets the desired status at once; the task then stops on its own time. */
function isStopping(task: { desiredStatus?: string | undefined; lastStatus?: string | undefined }): boolean {
  return task.desiredStatus === "STOPPED" || task.lastStatus === "STOPPED" || task.lastStatus === "DELETED";
}

/** The tasks of `tasks` that are still meant to run (a task ECS no longer knows is not). */
export async function tasksStillRunning(ctx: Ctx, tasks: readonly Pick<UserTask, "clusterArn" | "taskArn">[]): Promise<string[]> {
  const byCluster = new Map<string, string[]>();
  for (const t of tasks) byCluster.set(t.clusterArn, [...(byCluster.get(t.clusterArn) ?? []), t.taskArn]);
  const running: string[] = [];
  for (const [cluster, arns] of byCluster) {
    for (let i = 0; i < arns.length; i += DESCRIBE_TASKS_MAX) {
      const out = await ctx.read("ecs", ECS_READ, new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + DESCRIBE_TASKS_MAX) }));
      for (const task of out.tasks ?? []) if (task.taskArn && !isStopping(task)) running.push(task.taskArn);
    }
  }
  return running;
}

/** Whether a task is still meant to run (a stop that failed, or a task someone started again). */
export async function isTaskRunning(ctx: Ctx, task: Pick<UserTask, "clusterArn" | "taskArn">): Promise<boolean> {
  return (await tasksStillRunning(ctx, [task])).length > 0;
}

/** Whether a task definition is still ACTIVE (one ECS no longer knows is not). */
export async function isDefinitionActive(ctx: Ctx, taskDefinitionArn: string): Promise<boolean> {
  try {
    const out = await ctx.read("ecs", ECS_READ, new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
    return out.taskDefinition?.status === "ACTIVE";
  } catch (err) {
    if (isErrorCode(err, ECS.client)) return false;
    throw err;
  }
}

export async function activeDefinitions(ctx: Ctx, arns: readonly string[]): Promise<string[]> {
  const active: string[] = [];
  for (const arn of arns) if (await isDefinitionActive(ctx, arn)) active.push(arn);
  return active;
}

/** Whether ECR still holds the image (by digest). */
export async function imageStillThere(ctx: Ctx, image: ImageInRepository): Promise<boolean> {
  try {
    const out = await ctx.read("ecr", ECR_READ, new DescribeImagesCommand({ registryId: image.registryId, repositoryName: image.repositoryName, imageIds: [{ imageDigest: image.digest }] }));
    return (out.imageDetails ?? []).length > 0;
  } catch (err) {
    if (isErrorCode(err, ECR.imageNotFound, ECR.repositoryNotFound)) return false;
    throw err;
  }
}
