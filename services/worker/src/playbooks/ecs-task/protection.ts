// Task scale-in protection (UpdateTaskProtection / GetTaskProtection). "You can use Amazon ECS
// task scale-in protection to protect your tasks from being terminated by scale-in events from
// either service auto scaling or deployments", for 1 to 2880 minutes ("Protect your Amazon ECS
// tasks from being terminated by scale-in events", ECS Developer Guide). Only a service's tasks:
// "Invoking this operation for a standalone task will result in an TASK_NOT_VALID failure"
// (UpdateTaskProtection, ECS API Reference).
import { UpdateTaskProtectionCommand } from "@aws-sdk/client-ecs";
import type { StepContext } from "../../engine/step.js";
import type { TaskRef } from "./ids.js";

/** The longest protection ECS allows (48 hours): evidence work and a person's decision need time. */
export const PROTECTION_MINUTES = 2880;

/** What protection does not cover, for the plan and the record. */
export const PROTECTION_LEAVES =
  "Scale-in protection keeps the service's scale-in and deployments from stopping the task for up to 48 hours; it does not " +
  "keep ECS from replacing the task when a container health check fails (isolation may make it fail), from retiring a Fargate " +
  "task for maintenance or reclaiming a Spot one, nor a person or another tool from stopping it, and it lapses after 48 hours.";

/** Sets (or clears) protection; the failures ECS answered with (TASK_NOT_VALID, MISSING), by reason. */
export async function setProtection(ctx: StepContext, task: TaskRef, enabled: boolean): Promise<string[]> {
  const out = await ctx.change({
    service: "ecs",
    family: "ecs-write",
    command: new UpdateTaskProtectionCommand({
      cluster: task.cluster,
      tasks: [task.taskArn],
      protectionEnabled: enabled,
      ...(enabled ? { expiresInMinutes: PROTECTION_MINUTES } : {}),
    }),
  });
  return (out.failures ?? []).map((f) => `${f.reason ?? "failure"}${f.detail ? `: ${f.detail}` : ""}`);
}
