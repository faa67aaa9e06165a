// What the approver reads about the services that point at the task definitions the plan
// deregisters: they are not changed by this playbook, and what deregistration and the stopped
// tasks mean for them, as ECS documents it (ECS API Reference, DeregisterTaskDefinition; ECS
// Developer Guide, "Deregistering an Amazon ECS task definition revision").
import type { UserService } from "./users.js";

const DEREGISTRATION =
  "Deregistering marks a task definition INACTIVE: tasks and services that reference it keep running, and such a service can still scale " +
  "up or down through its desired count; no new task can be run (RunTask) and no service created from it, and no service can be updated " +
  "to it (ECS may take up to 10 minutes to enforce this).";

function serviceLine(s: UserService): string {
  const cluster = s.clusterArn.split("/").pop() ?? s.clusterArn;
  return `${s.serviceName} in cluster ${cluster} (desired count ${s.desiredCount}, task definition ${s.taskDefinitionArn.split("/").pop() ?? s.taskDefinitionArn})`;
}

/**
 * The plan's note for the destructive step. `unwritable`: why the image itself cannot be deleted
 * (then a service's replacement task pulls it again).
 */
export function servicesNote(services: readonly UserService[], unwritable: string | null): string {
  if (services.length === 0) return `No service uses these task definitions. ${DEREGISTRATION}`;
  const replacement =
    unwritable === null
      ? "Each service starts a replacement for every stopped task from the same task definition; with the image deleted from ECR the " +
        "replacement cannot pull it and fails to start, so the service stays below its desired count until someone updates it to a task " +
        "definition with a clean image (UpdateService)."
      : `Each service starts a replacement for every stopped task from the same task definition, and the replacement pulls the same image again: ${unwritable}. ` +
        "Update the service to a task definition with a clean image (UpdateService), or set its desired count to 0.";
  return `Services left as they are (this plan does not change them): ${services.map(serviceLine).join("; ")}. ${DEREGISTRATION} ${replacement}`;
}
