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

/** What deleting by digest takes with it: every tag the image carries, whoever else pulls by them. */
function tagsLine(tags: readonly string[] | null): string {
  if (tags === null) return "";
  if (tags.length === 0) return " The image carries no tag.";
  return ` Deleting the image by its digest removes every tag it carries: ${tags.join(", ")}.`;
}

/**
 * The plan's note for the destructive step. `unwritable`: why the image itself cannot be deleted
 * (then a service's replacement task pulls it again). `tags`: the tags the deleted image carries
 * (null when nothing is deleted).
 */
export function servicesNote(services: readonly UserService[], unwritable: string | null, tags: readonly string[] | null = null): string {
  if (services.length === 0) return `No service uses these task definitions. ${DEREGISTRATION}${tagsLine(tags)}`;
  const replacement =
    unwritable === null
      ? "Each service starts a replacement for every stopped task from the same task definition; with the image deleted from ECR a " +
        "Fargate replacement cannot pull it and fails to start, so the service stays below its desired count until someone updates it to a " +
        "task definition with a clean image (UpdateService). On the EC2 launch type a container instance that still holds the image may " +
        "start the replacement from its cache: the ECS agent falls back to a cached image when a pull fails (ECS_IMAGE_PULL_BEHAVIOR " +
        "default, and prefer-cached and once use the cache first), so update or scale such a service to 0 as well."
      : `Each service starts a replacement for every stopped task from the same task definition, and the replacement pulls the same image again: ${unwritable}. ` +
        "Update the service to a task definition with a clean image (UpdateService), or set its desired count to 0.";
  return `Services left as they are (this plan does not change them): ${services.map(serviceLine).join("; ")}. ${DEREGISTRATION} ${replacement}${tagsLine(tags)}`;
}
