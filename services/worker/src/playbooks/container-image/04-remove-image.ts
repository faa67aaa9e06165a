// Step 4 (destructive, one plan and one approval): take the image out of use and out of the
// registry. In this order, so that nothing can start the image again once its tasks stop:
//   1. DeregisterTaskDefinition for every ACTIVE definition using it: no new task can be run and
//      no service created from them (ECS API Reference, DeregisterTaskDefinition);
//   2. BatchDeleteImage by digest (this account's ECR only): no new pull of these bytes, by a
//      service's replacement task either; every tag of the image goes with it;
//   3. StopTask for every running task using it, with a reason naming the finding.
// Services pointing at those definitions are listed in the plan (services.ts says what happens to
// them); they are never changed here. Each call is safe to send again after a crash: an already
// INACTIVE definition, an image already gone (failures[] ImageNotFound) and an already stopped
// task are taken as done once the live state confirms it.
import { BatchDeleteImageCommand } from "@aws-sdk/client-ecr";
import { DeregisterTaskDefinitionCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import { z } from "zod";
import { ECS_TASK_ARN, ECS_TASK_DEFINITION_ARN } from "@gdr/core/findings/patterns";
import { EscalateRemediation, idOf, isErrorCode, parseOutput, UnexpectedIdentifierError, VerificationError, type CheckResult, type Step, type StepContext } from "../kit/index.js";
import { ECR_WRITE, ECS_WRITE } from "../kit/families.js";
import { unwritableReason } from "./01-resolve-image.js";
import { ECR, ECS } from "./errors.js";
import { parseImageReference } from "./image-ref.js";
import { activeDefinitions, imageStillThere, isDefinitionActive, isTaskRunning, tasksStillRunning } from "./live.js";
import { STEP } from "./names.js";
import type { ImageInRepository } from "./scan.js";
import { servicesNote } from "./services.js";
import { resolvedOf } from "./target.js";
import { usersSchema, type Users, type UserTask } from "./users.js";

const removeOutput = z.object({
  stoppedTasks: z.array(idOf(ECS_TASK_ARN)),
  deregistered: z.array(idOf(ECS_TASK_DEFINITION_ARN)),
  /** `deleted` by this step, `gone` already, `not_applicable` outside this account's ECR. */
  image: z.enum(["deleted", "gone", "not_applicable"]),
  imageNote: z.string().nullable(),
  /** The tags the deleted image carried (they go with it); absent from records of older versions. */
  imageTags: z.array(z.string()).default([]),
  services: usersSchema.shape.services,
});
type Removed = z.infer<typeof removeOutput>;

/** The ARN's region and account (arn:<partition>:<service>:<region>:<account>:...). */
function scopeOf(arn: string): { region: string | undefined; account: string | undefined } {
  const [, , , region, account] = arn.split(":");
  return { region, account };
}

/**
 * The recorded users, every ARN checked again to be in the remediation's own account and region:
 * the record is read back from the store, and a changing call never names anything else.
 */
function usersOf(ctx: Pick<StepContext, "outputs" | "remediation">): Users {
  const users = parseOutput(usersSchema, ctx.outputs.get(STEP.findUsers), `the ${STEP.findUsers} step's output`);
  const arns = [...users.tasks.flatMap((t) => [t.clusterArn, t.taskArn]), ...users.taskDefinitions.map((d) => d.taskDefinitionArn)];
  for (const arn of arns) {
    const { region, account } = scopeOf(arn);
    if (region !== ctx.remediation.region || account !== ctx.remediation.accountId) {
      throw new UnexpectedIdentifierError(`the recorded ${arn} is not in remediation ${ctx.remediation.id}'s account ${ctx.remediation.accountId} and region ${ctx.remediation.region}`);
    }
  }
  return users;
}

function imageOf(ctx: Pick<StepContext, "outputs" | "remediation">): { image: ImageInRepository | null; reason: string | null; tags: string[] } {
  const resolved = resolvedOf(ctx);
  if (resolved.status === "found" && resolved.ecr && resolved.image) {
    // The delete names this remediation's own registry only: the record is read back from the
    // store, so the account and region are checked again against the remediation's, not trusted.
    const reference = parseImageReference(resolved.reference);
    const outOfReach = unwritableReason(reference, ctx.remediation);
    if (outOfReach !== null || resolved.ecr.registryId !== ctx.remediation.accountId || resolved.ecr.repositoryName !== reference.repository) {
      throw new UnexpectedIdentifierError(`the recorded image ${resolved.ecr.registryId}/${resolved.ecr.repositoryName} is not in remediation ${ctx.remediation.id}'s own registry (${outOfReach ?? "another repository"})`);
    }
    return { image: { registryId: resolved.ecr.registryId, repositoryName: resolved.ecr.repositoryName, digest: resolved.image.digest }, reason: null, tags: resolved.image.tags };
  }
  return { image: null, reason: resolved.reason ?? `the image is ${resolved.status}`, tags: [] };
}

/** ECS's stop reason (up to 255 characters, StopTask): the finding and the remediation, no free text. */
export function stopReason(ctx: Pick<StepContext, "remediation">): string {
  return `GuardDuty finding ${ctx.remediation.findingId}: the task runs a compromised image (responder remediation ${ctx.remediation.id})`;
}

async function deregister(ctx: StepContext, taskDefinitionArn: string): Promise<void> {
  try {
    await ctx.change({ service: "ecs", family: ECS_WRITE, command: new DeregisterTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }) });
  } catch (err) {
    // Deregistered before (a run that died after sending): done, if ECS agrees.
    if (isErrorCode(err, ECS.client, ECS.invalidParameter) && !(await isDefinitionActive(ctx, taskDefinitionArn))) return;
    throw err;
  }
}

/** ECR kept the image: why, for the escalation after the tasks are stopped. */
class DeleteRefused {
  constructor(readonly reason: string) {}
}

async function deleteImage(ctx: StepContext, image: ImageInRepository): Promise<"deleted" | "gone" | DeleteRefused> {
  const out = await ctx.change({
    service: "ecr",
    family: ECR_WRITE,
    command: new BatchDeleteImageCommand({ registryId: image.registryId, repositoryName: image.repositoryName, imageIds: [{ imageDigest: image.digest }] }),
  });
  const failure = out.failures?.[0];
  if (!failure) return "deleted";
  if (failure.failureCode === ECR.imageNotFoundFailure) return "gone";
  // E.g. ImageReferencedByManifestList: the image is part of a multi-architecture manifest list,
  // which ECR will not leave dangling. Which list to delete is a person's decision.
  return new DeleteRefused(`ecr_delete_refused: ECR did not delete ${image.repositoryName}@${image.digest}: ${failure.failureCode ?? "unknown failure"}`);
}

async function stop(ctx: StepContext, task: UserTask): Promise<void> {
  try {
    await ctx.change({ service: "ecs", family: ECS_WRITE, command: new StopTaskCommand({ cluster: task.clusterArn, task: task.taskArn, reason: stopReason(ctx) }) });
  } catch (err) {
    // A task that stopped (or was cleaned up) meanwhile: done, if ECS agrees.
    if (isErrorCode(err, ECS.client, ECS.invalidParameter) && !(await isTaskRunning(ctx, task))) return;
    throw err;
  }
}

/** What is still to be done, read live. */
async function leftToDo(ctx: StepContext): Promise<{ tasks: string[]; definitions: string[]; image: boolean }> {
  const users = usersOf(ctx);
  const { image } = imageOf(ctx);
  return {
    tasks: await tasksStillRunning(ctx, users.tasks),
    definitions: await activeDefinitions(ctx, users.taskDefinitions.map((d) => d.taskDefinitionArn)),
    image: image !== null && (await imageStillThere(ctx, image)),
  };
}

export const removeImage: Step = {
  name: STEP.removeImage,
  destructive: true,
  output: removeOutput,

  async check(ctx): Promise<CheckResult> {
    const users = usersOf(ctx);
    const { image, reason } = imageOf(ctx);
    const left = await leftToDo(ctx);
    if (left.tasks.length > 0 || left.definitions.length > 0 || left.image) return { done: false };
    const output: Removed = { stoppedTasks: [], deregistered: [], image: image ? "gone" : "not_applicable", imageNote: reason, imageTags: [], services: users.services };
    const nothingFound = users.tasks.length === 0 && users.taskDefinitions.length === 0;
    if (nothingFound && !image) return { done: true, output, note: `does not apply: no running task or ACTIVE task definition uses the image, and ${reason ?? "it cannot be deleted"}` };
    return { done: true, output };
  },

  async act(ctx) {
    const users = usersOf(ctx);
    const { image, reason, tags } = imageOf(ctx);
    for (const d of users.taskDefinitions) await deregister(ctx, d.taskDefinitionArn);
    const imageState = image ? await deleteImage(ctx, image) : "not_applicable";
    // The approved stops are sent even when ECR kept the image: tasks running the compromised
    // image must not keep running while a person works out the manifest list. Then a person decides.
    for (const t of users.tasks) await stop(ctx, t);
    if (imageState instanceof DeleteRefused) {
      const reason = `${imageState.reason}; the task definitions were deregistered and the tasks stopped, the image is still in ECR`;
      throw new EscalateRemediation(reason, reason);
    }
    const output: Removed = {
      stoppedTasks: users.tasks.map((t) => t.taskArn),
      deregistered: users.taskDefinitions.map((d) => d.taskDefinitionArn),
      image: imageState,
      imageNote: reason,
      imageTags: image ? tags : [],
      services: users.services,
    };
    return output;
  },

  async verify(ctx) {
    const left = await leftToDo(ctx);
    const problems = [
      ...left.tasks.map((t) => `task ${t} is still running`),
      ...left.definitions.map((d) => `task definition ${d} is still ACTIVE`),
      ...(left.image ? ["the image is still in its repository"] : []),
    ];
    if (problems.length > 0) throw new VerificationError(problems.join("; "));
  },

  planNote(output) {
    const removed = parseOutput(removeOutput, output, `the ${STEP.removeImage} step's planned output`);
    return servicesNote(removed.services, removed.image === "not_applicable" ? removed.imageNote : null, removed.image === "deleted" ? removed.imageTags : null);
  },
};
