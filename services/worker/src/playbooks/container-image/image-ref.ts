// The image reference a finding names, taken apart: which registry, which repository, which tag or
// digest. Only references that pass core's IMAGE_REFERENCE pattern are parsed, so nothing here
// ever sees whitespace, Unicode or an oversize value. The split follows the Docker distribution
// reference rules: the first path component is a registry host only when it has a '.' or a ':'
// or is `localhost`; otherwise the image is on Docker Hub, and a one-component Docker Hub name
// is under `library/` (`nginx` is `docker.io/library/nginx`). No tag and no digest means `latest`.
import { IMAGE_REFERENCE } from "@gdr/core/findings/patterns";
import { expectId, UnexpectedIdentifierError } from "../kit/index.js";

export const DOCKER_HUB = "docker.io";
export const DEFAULT_TAG = "latest";

export interface ImageReference {
  /** The reference as the finding wrote it. */
  raw: string;
  /** The registry host (with its port, if any), `docker.io` when none is written. */
  registry: string;
  /** The repository path within the registry (`library/nginx` for `nginx`). */
  repository: string;
  /** The tag as written, or null (see `effectiveTag`). */
  tag: string | null;
  /** `sha256:<64 hex>` when the reference pins one. */
  digest: string | null;
}

/** An Amazon ECR private registry host: its account and region. */
export interface EcrRegistry {
  accountId: string;
  region: string;
  fips: boolean;
}

// <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]: ECR's private registry endpoints,
// including its FIPS endpoints and the China regions ("Amazon ECR endpoints and quotas", AWS
// General Reference; "Private registry concepts", ECR User Guide).
// The `.cn` suffix belongs to the China regions only (and only they have it): a host pairing them
// otherwise names no ECR endpoint, so it is no registry of this account.
const ECR_HOST = /^(?<account>[0-9]{12})\.dkr\.ecr(?<fips>-fips)?\.(?<region>[a-z]{2,4}(?:-[a-z]{2,10}){1,2}-[0-9]{1,2})\.amazonaws\.com(?<cn>\.cn)?$/;

// Docker Hub's other names for itself (the legacy index and the registry API host).
const DOCKER_HUB_ALIASES: ReadonlySet<string> = new Set(["index.docker.io", "registry-1.docker.io"]);

// Docker distribution's path grammar: lowercase components joined by '/'.
const REPOSITORY_PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

function isRegistryHost(component: string): boolean {
  return component.includes(".") || component.includes(":") || component === "localhost";
}

/** Parses a reference that passed IMAGE_REFERENCE (checked here again); throws otherwise. */
export function parseImageReference(value: unknown): ImageReference {
  const raw = expectId(IMAGE_REFERENCE, value, "the image reference");
  let rest = raw;
  let digest: string | null = null;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf("/");
  const first = slash === -1 ? "" : rest.slice(0, slash);
  const hasRegistry = slash !== -1 && isRegistryHost(first);
  const host = hasRegistry ? first.toLowerCase() : DOCKER_HUB;
  // Normalised before the `library/` rule: `index.docker.io/nginx` is `docker.io/library/nginx`.
  const registry = DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB : host;
  let path = hasRegistry ? rest.slice(slash + 1) : rest;
  // A tag follows the last ':' of the path (a registry port's ':' is not in the path any more).
  let tag: string | null = null;
  const colon = path.lastIndexOf(":");
  if (colon !== -1) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
  }
  // IMAGE_REFERENCE lets a registry-like first component through ("Team/app"); by Docker's rule
  // it is no registry (no '.' or ':'), and as a repository path it is not a valid name.
  if (!REPOSITORY_PATH.test(path)) throw new UnexpectedIdentifierError(`the image reference has no valid repository path: ${JSON.stringify(raw)}`);
  const repository = registry === DOCKER_HUB && !path.includes("/") ? `library/${path}` : path;
  return { raw, registry, repository, tag, digest };
}

/** The tag a pull of this reference resolves when it pins no digest. */
export function effectiveTag(ref: Pick<ImageReference, "tag">): string {
  return ref.tag ?? DEFAULT_TAG;
}

/** The ECR private registry the reference is in, or null (a public or other registry). */
export function ecrRegistryOf(ref: Pick<ImageReference, "registry">): EcrRegistry | null {
  const m = ECR_HOST.exec(ref.registry);
  const account = m?.groups?.["account"];
  const region = m?.groups?.["region"];
  if (!account || !region) return null;
  if ((m.groups?.["cn"] !== undefined) !== region.startsWith("cn-")) return null;
  return { accountId: account, region, fips: m.groups?.["fips"] !== undefined };
}

/** Whether two references name the same repository (registry and path, Docker Hub spelled one way). */
export function sameRepository(a: Pick<ImageReference, "registry" | "repository">, b: Pick<ImageReference, "registry" | "repository">): boolean {
  return sameRegistry(a.registry, b.registry) && a.repository === b.repository;
}

/**
 * An ECR registry has a standard and a FIPS endpoint: both are the same registry (account and
 * region). Any other host is compared as written (lower-cased).
 */
function sameRegistry(a: string, b: string): boolean {
  if (a === b) return true;
  const ea = ecrRegistryOf({ registry: a });
  const eb = ecrRegistryOf({ registry: b });
  return ea !== null && eb !== null && ea.accountId === eb.accountId && ea.region === eb.region;
}
