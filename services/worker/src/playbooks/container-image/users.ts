// What find-users records: every task, ACTIVE task definition and service that uses the image,
// as the destructive step's plan is built from it and its check reads it back.
import { ECS_CLUSTER_ARN, ECS_TASK_ARN, ECS_TASK_DEFINITION_ARN } from "@gdr/core/findings/patterns";
import { z } from "zod";
import { idOf } from "../kit/index.js";
import { ECS_SERVICE_ARN } from "./names.js";

const matchedBy = z.enum(["digest", "reference"]);

export const usersSchema = z.object({
  clustersSearched: z.number().int().nonnegative(),
  tasksSearched: z.number().int().nonnegative(),
  taskDefinitionsSearched: z.number().int().nonnegative(),
  /** Running (desired RUNNING) tasks that run the image, in any cluster of the account and region. */
  tasks: z.array(
    z.object({
      clusterArn: idOf(ECS_CLUSTER_ARN),
      taskArn: idOf(ECS_TASK_ARN),
      taskDefinitionArn: idOf(ECS_TASK_DEFINITION_ARN),
      group: z.string().nullable(),
      matchedBy,
      /** Which record said so: the task's containers (as DescribeTasks reports them) or its definition's. */
      via: z.enum(["task", "task-definition"]),
    }),
  ),
  /** ACTIVE task definitions whose containers use the image (running or not). */
  taskDefinitions: z.array(z.object({ taskDefinitionArn: idOf(ECS_TASK_DEFINITION_ARN), matchedBy })),
  /** Services whose task definition (or a deployment's) uses the image. */
  services: z.array(
    z.object({
      clusterArn: idOf(ECS_CLUSTER_ARN),
      serviceArn: idOf(ECS_SERVICE_ARN),
      serviceName: z.string(),
      taskDefinitionArn: idOf(ECS_TASK_DEFINITION_ARN),
      desiredCount: z.number().int().nonnegative(),
    }),
  ),
});

export type Users = z.infer<typeof usersSchema>;
export type UserTask = Users["tasks"][number];
export type UserService = Users["services"][number];
