// Whether a container (of a running task, or of a task definition) uses the compromised image.
// A digest names the image's bytes, so a digest on both sides decides alone. Without one, a
// reference in the same repository matches by tag: the finding's own tag, or any tag the image
// carries now in its repository (a definition that pulls `:latest` runs these bytes when `latest`
// is one of their tags). A tag is what a pull resolves today, which is the best a task
// definition written with a tag can say about what it would run.
import { IMAGE_DIGEST, IMAGE_REFERENCE } from "@gdr/core/findings/patterns";
import { effectiveTag, parseImageReference, sameRepository, type ImageReference } from "./image-ref.js";

/** The image hunted: the finding's reference and, once resolved in ECR, its digest and tags. */
export interface ImageTarget {
  reference: ImageReference;
  /** The digest the image resolved to (or the one the reference pins), when known. */
  digest: string | null;
  /** The tags the image carries in its repository now (empty when it was not resolved). */
  tags: readonly string[];
}

export type MatchedBy = "digest" | "reference";

/** What a container says about its image: the reference it pulls and, for a task, the digest it runs. */
export interface ContainerImage {
  /** The container's name (a task's container and its definition's share it). */
  name?: string | undefined;
  image?: string | undefined;
  imageDigest?: string | undefined;
}

/** The tags of the target a tag-only reference may name. */
function targetTags(target: ImageTarget): Set<string> {
  const tags = new Set(target.tags);
  const ref = target.reference;
  // A reference that pins a digest says nothing about tags: a pull of `repo:tag@sha256:…` ignores
  // the tag, which may name other bytes (a clean image pushed since). Only a reference without a
  // digest names its tag (no tag: `latest`).
  if (ref.digest === null) tags.add(effectiveTag(ref));
  return tags;
}

function targetDigest(target: ImageTarget): string | null {
  return target.digest ?? target.reference.digest;
}

export function matchImage(target: ImageTarget, container: ContainerImage): MatchedBy | null {
  const digest = targetDigest(target);
  // What the agent reports a task actually runs: the strongest evidence there is, either way (a
  // task that pulled the tag before it moved runs other bytes, whatever its reference says).
  const runs = container.imageDigest !== undefined && IMAGE_DIGEST.regex.test(container.imageDigest) ? container.imageDigest : null;
  if (digest !== null && runs !== null) return runs === digest ? "digest" : null;
  const image = container.image;
  // A reference that does not parse is nothing this service can compare (or name in a call).
  if (image === undefined || !IMAGE_REFERENCE.regex.test(image)) return null;
  const candidate = parseImageReference(image);
  if (!sameRepository(candidate, target.reference)) return null;
  // A pull by digest ignores any tag written beside it.
  if (candidate.digest !== null) return candidate.digest === digest ? "digest" : null;
  return targetTags(target).has(effectiveTag(candidate)) ? "reference" : null;
}

/** The first way any of the containers matches, or null. */
export function matchAny(target: ImageTarget, containers: readonly ContainerImage[]): MatchedBy | null {
  let found: MatchedBy | null = null;
  for (const c of containers) {
    const m = matchImage(target, c);
    if (m === "digest") return m;
    found ??= m;
  }
  return found;
}

/**
 * A running task's match when its own containers (as DescribeTasks reports them) did not match:
 * its definition's containers, but only those the task did not report. A container the task
 * reports has said what it runs: its definition's tag (which may have moved to these bytes since
 * the task pulled it) must not overrule the digest the task reports.
 */
export function matchUnreported(target: ImageTarget, reported: readonly ContainerImage[], defined: readonly ContainerImage[]): MatchedBy | null {
  const named = new Set(reported.flatMap((c) => (c.name === undefined ? [] : [c.name])));
  return matchAny(
    target,
    defined.filter((c) => c.name === undefined || !named.has(c.name)),
  );
}
