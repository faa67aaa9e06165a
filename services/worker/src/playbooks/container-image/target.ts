// The image this remediation hunts, read back from the resolve-image step's record: the finding's
// reference and, when ECR resolved it, its digest, tags and repository.
import { parseOutput, type StepContext } from "../kit/index.js";
import { parseImageReference } from "./image-ref.js";
import type { ImageTarget } from "./match.js";
import { STEP } from "./names.js";
import { resolvedSchema, type Resolved } from "./resolved.js";

export function resolvedOf(ctx: Pick<StepContext, "outputs">): Resolved {
  return parseOutput(resolvedSchema, ctx.outputs.get(STEP.resolveImage), `the ${STEP.resolveImage} step's output`);
}

export function targetOf(resolved: Resolved): ImageTarget {
  return {
    reference: parseImageReference(resolved.reference),
    digest: resolved.image?.digest ?? resolved.referenceDigest ?? resolved.ranDigest,
    tags: resolved.image?.tags ?? [],
  };
}
