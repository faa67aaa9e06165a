// What resolve-image records: where the image lives and, for an image in this account's ECR,
// what ECR holds under the reference. The later steps read it back through this schema.
import { ACCOUNT_ID, IMAGE_DIGEST } from "@gdr/core/findings/patterns";
import { z } from "zod";
import { idOf } from "../kit/index.js";
import { ECR_REPOSITORY_NAME } from "./names.js";

export const resolvedSchema = z.object({
  /** The reference as the finding names it (the remediation's resource key). */
  reference: z.string(),
  registry: z.string(),
  repository: z.string(),
  tag: z.string().nullable(),
  /** The digest the reference pins, if it pins one. */
  referenceDigest: idOf(IMAGE_DIGEST).nullable(),
  /**
   * `found`: in an ECR repository of this account and region, and there; `gone`: in such a
   * repository but not there (any more); `not_writable`: anywhere else (another account's or
   * region's ECR, a public or third-party registry), which this service cannot change.
   */
  status: z.enum(["found", "gone", "not_writable"]),
  /** Why the image is gone or out of reach, as people read it. */
  reason: z.string().nullable(),
  /** The ECR repository (this account's) the reference points into, when it does. */
  ecr: z.object({ registryId: idOf(ACCOUNT_ID), repositoryName: idOf(ECR_REPOSITORY_NAME) }).nullable(),
  /**
   * The digest the finding's own task reports running under the reference (ran-digest.ts), when
   * the image could not be looked up in this account's ECR (another registry, or gone): the
   * hunt then matches the bytes that ran, not every task that pulls the same tag. Absent from
   * records of older versions.
   */
  ranDigest: idOf(IMAGE_DIGEST).nullable().default(null),
  /** What ECR holds, when found. */
  image: z
    .object({
      digest: idOf(IMAGE_DIGEST),
      tags: z.array(z.string()),
      pushedAt: z.string().nullable(),
    })
    .nullable(),
});

export type Resolved = z.infer<typeof resolvedSchema>;
