// Step 1 (read-only): where is the image, and what is it? An image in an ECR repository of the
// remediation's own account and region is looked up (DescribeImages, by the digest the reference
// pins, else by its tag) for its digest, tags and push time: the digest is what the hunt matches
// and what the delete names. Anything else (another account's or region's ECR, ECR Public, Docker
// Hub, any other registry) is recorded as a registry this service cannot write to: the hunt still
// runs by reference, and the delete later says it does not apply. An image no longer in its
// repository is recorded too; the hunt still runs (tasks keep running what they pulled), on the
// digest the finding's task reports when it reports one. A tag that names other bytes now than
// the finding's task runs escalates (ran-digest.ts).
import { DescribeImagesCommand, type ImageIdentifier } from "@aws-sdk/client-ecr";
import { ACCOUNT_ID, IMAGE_DIGEST, IMAGE_REFERENCE } from "@gdr/core/findings/patterns";
import { expectId, isErrorCode, resourceKeyAs, type Step, type StepContext } from "../kit/index.js";
import { ECR_READ } from "../kit/families.js";
import { ECR } from "./errors.js";
import { ecrRegistryOf, effectiveTag, parseImageReference, type ImageReference } from "./image-ref.js";
import { ECR_REPOSITORY_NAME, STEP } from "./names.js";
import { assertTagNotMoved, ranDigestOf } from "./ran-digest.js";
import { resolvedSchema, type Resolved } from "./resolved.js";

type Base = Pick<Resolved, "reference" | "registry" | "repository" | "tag" | "referenceDigest" | "ranDigest">;

function baseOf(ref: ImageReference): Base {
  return { reference: ref.raw, registry: ref.registry, repository: ref.repository, tag: ref.tag, referenceDigest: ref.digest, ranDigest: null };
}

/** Why the registry is out of this service's reach, or null when it is this account's ECR here. */
export function unwritableReason(ref: ImageReference, where: { accountId: string; region: string }): string | null {
  const ecr = ecrRegistryOf(ref);
  if (!ecr) return `${ref.registry} is not an Amazon ECR private registry (a public or third-party registry): a registry the service cannot write to`;
  if (ecr.accountId !== where.accountId) return `${ref.registry} is account ${ecr.accountId}'s ECR registry, not ${where.accountId}'s: a registry the service cannot write to`;
  if (ecr.region !== where.region) return `${ref.registry} is the ECR registry of ${ecr.region}, not of ${where.region}: a registry the service cannot write to`;
  return null;
}

async function resolve(ctx: StepContext): Promise<Resolved> {
  const ref = parseImageReference(resourceKeyAs(ctx, IMAGE_REFERENCE));
  const base = baseOf(ref);
  const reason = unwritableReason(ref, ctx.remediation);
  if (reason !== null) return { ...base, status: "not_writable", reason, ecr: null, image: null };
  const registryId = expectId(ACCOUNT_ID, ctx.remediation.accountId, "the remediation's account");
  const repositoryName = expectId(ECR_REPOSITORY_NAME, ref.repository, "the image's repository");
  const ecr = { registryId, repositoryName };
  // A pinned digest is what the container ran; a tag may have moved since, and is second best.
  const imageId: ImageIdentifier = ref.digest !== null ? { imageDigest: ref.digest } : { imageTag: effectiveTag(ref) };
  try {
    const out = await ctx.read("ecr", ECR_READ, new DescribeImagesCommand({ registryId, repositoryName, imageIds: [imageId] }));
    const detail = out.imageDetails?.[0];
    if (!detail) return { ...base, status: "gone", reason: `ECR returned no image for ${ref.raw}`, ecr, image: null };
    const digest = expectId(IMAGE_DIGEST, detail.imageDigest, "the digest ECR returned");
    // Looked up by tag: the tag may have moved since the finding's task pulled it.
    if (ref.digest === null) await assertTagNotMoved(ctx, ref, digest);
    return {
      ...base,
      status: "found",
      reason: null,
      ecr,
      image: {
        digest,
        tags: [...(detail.imageTags ?? [])].sort(),
        pushedAt: detail.imagePushedAt?.toISOString() ?? null,
      },
    };
  } catch (err) {
    if (isErrorCode(err, ECR.imageNotFound)) return { ...base, status: "gone", reason: `the image is no longer in repository ${repositoryName}`, ecr, image: null };
    if (isErrorCode(err, ECR.repositoryNotFound)) return { ...base, status: "gone", reason: `repository ${repositoryName} no longer exists`, ecr, image: null };
    throw err;
  }
}

export const resolveImage: Step = {
  name: STEP.resolveImage,
  destructive: false,
  // Only reads: it runs before a plan is frozen, so the plan is built from what ECR holds now.
  readOnly: true,
  output: resolvedSchema,

  check() {
    return Promise.resolve({ done: false });
  },

  async act(ctx) {
    const resolved = await resolve(ctx);
    if (resolved.status === "found") return resolved;
    // Not looked up in ECR: what the finding's task runs is the best word on which bytes ran.
    return { ...resolved, ranDigest: await ranDigestOf(ctx, parseImageReference(resolved.reference)) };
  },

  async verify() {
    // Nothing changed: act only read.
  },
};
