// Step 3 (evidence): an ECR vulnerability scan of the image, by digest, and its result recorded
// (status, severity counts, the first findings). It does not wait for a scan in progress: the
// record says IN_PROGRESS and the scan's result stays in ECR (DescribeImageScanFindings) for
// whoever investigates.
// - Basic scanning allows one scan per image per 24 hours, a scan on push included
//   (StartImageScan, ECR API Reference): LimitExceededException means the image was scanned
//   today, and that scan's result is recorded instead.
// - Enhanced scanning (Amazon Inspector) scans continuously: no StartImageScan is sent where the
//   registry's configuration says ENHANCED, and a basic-scan refusal (ValidationException) is
//   recorded as such; Inspector's findings come back through the same DescribeImageScanFindings.
// - An image outside this account's ECR, or no longer there: "does not apply", with the reason.
import { StartImageScanCommand } from "@aws-sdk/client-ecr";
import { z } from "zod";
import { describeError, isErrorCode, notAvailable, type CheckResult, type Step } from "../kit/index.js";
import { ECR_WRITE } from "../kit/families.js";
import { ECR } from "./errors.js";
import { STEP } from "./names.js";
import { scanResult, scanResultSchema, scanTypeOf, type ImageInRepository } from "./scan.js";
import { resolvedOf } from "./target.js";

const scanOutput = z.union([
  z.object({ applies: z.literal(false), reason: z.string() }),
  z.object({
    applies: z.literal(true),
    scanType: z.string().nullable(),
    /** Whether this step started a scan (false: quota used today, enhanced scanning, refused). */
    started: z.boolean(),
    note: z.string().nullable(),
    result: scanResultSchema,
  }),
]);

function imageOf(resolved: ReturnType<typeof resolvedOf>): ImageInRepository | null {
  if (resolved.status !== "found" || !resolved.ecr || !resolved.image) return null;
  return { registryId: resolved.ecr.registryId, repositoryName: resolved.ecr.repositoryName, digest: resolved.image.digest };
}

export const scanImage: Step = {
  name: STEP.scanImage,
  destructive: false,
  output: scanOutput,

  check(ctx): Promise<CheckResult> {
    const resolved = resolvedOf(ctx);
    if (imageOf(resolved) !== null) return Promise.resolve({ done: false });
    const reason = resolved.reason ?? `the image is ${resolved.status}`;
    return Promise.resolve({ done: true, output: { applies: false, reason }, note: `does not apply: ${reason}` });
  },

  async act(ctx) {
    const image = imageOf(resolvedOf(ctx));
    if (!image) throw new Error("scan-image acted on an image its check found out of reach");
    const scanType = await scanTypeOf(ctx, image.registryId);
    let started = false;
    let note: string | null = null;
    let refused: string | null = null;
    if (scanType === "ENHANCED") {
      note = "the registry uses enhanced scanning (Amazon Inspector), which scans continuously: no basic scan started; Inspector's findings are recorded";
    } else {
      try {
        await ctx.change({
          service: "ecr",
          family: ECR_WRITE,
          command: new StartImageScanCommand({ registryId: image.registryId, repositoryName: image.repositoryName, imageId: { imageDigest: image.digest } }),
          tolerates: [ECR.limitExceeded],
        });
        started = true;
      } catch (err) {
        if (isErrorCode(err, ECR.limitExceeded)) note = "the image was scanned in the last 24 hours (basic scanning allows one scan per image a day): that scan's result is recorded";
        else if (isErrorCode(err, ECR.validation)) refused = `ECR refused a basic scan (${describeError(err)}), as it does where enhanced scanning is on`;
        else if (isErrorCode(err, ECR.unsupportedImageType)) refused = "ECR cannot scan this image's type (UnsupportedImageTypeException)";
        else if (isErrorCode(err, ECR.imageNotFound)) refused = "the image left the repository before the scan";
        else throw err;
      }
    }
    const result = await scanResult(ctx, image);
    const output = { applies: true as const, scanType, started, note: refused ?? note, result };
    return refused === null ? output : notAvailable(`no scan: ${refused}`, output);
  },

  async verify() {
    // A scan runs on ECR's side, asynchronously; its status is recorded, and nothing waits for it.
  },
};
