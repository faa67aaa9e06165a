// What the finding's own task runs under the reference. GuardDuty names the image by the reference
// the task definition wrote (a tag, usually), not by its digest; resolve-image looks the tag up in
// ECR now, which may be minutes or hours after the task pulled it. If the tag has moved since (a
// fixed image pushed under `latest`), the tag names other bytes than the ones that ran the file:
// deleting them would delete the clean image and leave the compromised one. The agent reports the
// digest each container runs (DescribeTasks containers[].imageDigest), so the finding's task says
// which bytes ran. When it names another digest the remediation escalates: which image to remove
// is then a person's decision. (The stored finding's task ARN is not what GuardDuty's confirmation
// compares for an image remediation, so it may only stop the playbook, never choose what it deletes.)
import { DescribeTasksCommand } from "@aws-sdk/client-ecs";
import { parseFinding } from "@gdr/core/findings/finding";
import { ECS_CLUSTER_ARN, ECS_TASK_ARN, IMAGE_DIGEST, IMAGE_REFERENCE } from "@gdr/core/findings/patterns";
import { EscalateRemediation, expectId, isErrorCode, type StepContext } from "../kit/index.js";
import { ECS_READ } from "../kit/families.js";
import { effectiveTag, parseImageReference, sameRepository, type ImageReference } from "./image-ref.js";

type Ctx = Pick<StepContext, "read" | "finding" | "remediation">;

/** The finding's cluster and task, when it names a task of the remediation's account and region. */
function findingTask(ctx: Ctx): { cluster: string; task: string } | null {
  let parsed;
  try {
    parsed = parseFinding(ctx.finding, "eventbridge");
  } catch {
    // A stored finding that does not parse names no task to ask; GuardDuty's confirmation judges it.
    return null;
  }
  const r = parsed.resource;
  if (r.type !== "ECSCluster" || r.taskArn === undefined) return null;
  const cluster = expectId(ECS_CLUSTER_ARN, r.clusterArn, "the finding's cluster ARN");
  const task = expectId(ECS_TASK_ARN, r.taskArn, "the finding's task ARN");
  const [, , , region, account] = task.split(":");
  if (region !== ctx.remediation.region || account !== ctx.remediation.accountId) return null;
  return { cluster, task };
}

/** Whether a container's reference pulls what `ref` pulls (same repository, same tag, no digest). */
function pullsSameTag(image: string | undefined, ref: ImageReference): boolean {
  if (image === undefined || !IMAGE_REFERENCE.regex.test(image)) return false;
  const other = parseImageReference(image);
  return other.digest === null && sameRepository(other, ref) && effectiveTag(other) === effectiveTag(ref);
}

/**
 * The digests the finding's task reports running under the reference's tag (empty when the task
 * is gone, reports none, or the finding names no task).
 */
export async function digestsRun(ctx: Ctx, ref: ImageReference): Promise<string[]> {
  const where = findingTask(ctx);
  if (where === null) return [];
  let out;
  try {
    out = await ctx.read("ecs", ECS_READ, new DescribeTasksCommand({ cluster: where.cluster, tasks: [where.task] }));
  } catch (err) {
    // The cluster is gone: so is the task, and nothing says what it ran.
    if (isErrorCode(err, "ClusterNotFoundException")) return [];
    throw err;
  }
  const digests = new Set<string>();
  for (const task of out.tasks ?? []) {
    if (task.taskArn !== where.task) continue;
    for (const c of task.containers ?? []) {
      if (pullsSameTag(c.image, ref) && c.imageDigest !== undefined && IMAGE_DIGEST.regex.test(c.imageDigest)) digests.add(c.imageDigest);
    }
  }
  return [...digests].sort();
}

/**
 * For an image this service cannot look up (another registry, or gone from ECR): the one digest
 * the finding's task runs under the reference, or null (none reported, or several). Taking it can
 * only narrow the hunt to tasks reporting those bytes (tasks that report nothing still match by
 * reference), never widen it, whatever task the stored finding names.
 */
export async function ranDigestOf(ctx: Ctx, ref: ImageReference): Promise<string | null> {
  if (ref.digest !== null) return null;
  const digests = await digestsRun(ctx, ref);
  return digests.length === 1 ? (digests[0] ?? null) : null;
}

/** Escalates when the finding's task runs other bytes than the tag names now. */
export async function assertTagNotMoved(ctx: Ctx, ref: ImageReference, resolvedDigest: string): Promise<void> {
  const other = (await digestsRun(ctx, ref)).filter((d) => d !== resolvedDigest);
  if (other.length === 0) return;
  const reason =
    `image_tag_moved: ${ref.raw} names ${resolvedDigest} in ECR now, but the finding's task runs ${other.join(", ")}: the tag moved after the task pulled it, ` +
    "so deleting what it names now could delete a clean image and leave the compromised one; a person must decide which image to remove";
  throw new EscalateRemediation(reason, reason);
}
