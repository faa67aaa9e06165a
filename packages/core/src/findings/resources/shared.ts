import type { ContainerDetail, FindingResourceDetail } from "../finding-schema.js";
import type { IdentifierChecker } from "../identifiers.js";
import { CONTAINER_ID, CONTAINER_NAME, IMAGE_DIGEST, IMAGE_REFERENCE } from "../patterns.js";
import type { ContainerRef, FindingResource } from "../types.js";

/**
 * What a per-type mapper returns: the resource, or the path of the identifier it needs and did not
 * get (resource.ts decides what that means for real and sample findings).
 */
export type Mapped<T extends FindingResource> = { ok: true; resource: T } | { ok: false; missing: string };

export type ResourceMapper = (
  resource: FindingResourceDetail,
  ids: IdentifierChecker,
  path: string,
) => Mapped<FindingResource>;

/**
 * `{ key: value }` when the value is defined, `{}` otherwise, for spreading optional properties
 * (exactOptionalPropertyTypes forbids writing `key: undefined`).
 */
export function opt<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Partial<Record<K, V>>);
}

/** The `sha256:…` digest of an image reference pinned by digest (`repo@sha256:…`), if any. */
export function digestOf(image: string | undefined): string | undefined {
  if (image === undefined) return undefined;
  const at = image.lastIndexOf("@");
  if (at < 0) return undefined;
  const digest = image.slice(at + 1);
  return IMAGE_DIGEST.regex.test(digest) ? digest : undefined;
}

/** Containers as GuardDuty lists them for an EKS workload or an ECS task. */
export function mapContainers(
  list: readonly ContainerDetail[] | null | undefined,
  ids: IdentifierChecker,
  path: string,
): ContainerRef[] {
  return (list ?? []).map((c, i) => {
    const image = ids.optional(c.image, IMAGE_REFERENCE, `${path}[${i}].image`);
    return {
      ...opt("name", ids.optional(c.name, CONTAINER_NAME, `${path}[${i}].name`)),
      ...opt("image", image),
      ...opt("imageDigest", digestOf(image)),
      ...opt("containerId", ids.optional(c.id, CONTAINER_ID, `${path}[${i}].id`)),
    };
  });
}
