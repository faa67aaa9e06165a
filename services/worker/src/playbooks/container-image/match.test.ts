import { describe, expect, it } from "vitest";
import { parseImageReference } from "./image-ref.js";
import { matchAny, matchImage, matchUnreported, type ImageTarget } from "./match.js";

const REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/payments-api";
const DIGEST = `sha256:${"1".repeat(64)}`;
const OTHER = `sha256:${"2".repeat(64)}`;

function target(reference: string, digest: string | null, tags: string[] = []): ImageTarget {
  return { reference: parseImageReference(reference), digest, tags };
}

describe("matchImage", () => {
  const resolved = target(`${REPO}:1.8.2`, DIGEST, ["1.8.2", "latest"]);

  it("matches the digest a task runs, whatever its reference says", () => {
    expect(matchImage(resolved, { image: "nginx:1.27", imageDigest: DIGEST })).toBe("digest");
  });

  it("does not match a task that reports other bytes under the same tag (it pulled before the tag moved)", () => {
    expect(matchImage(resolved, { image: `${REPO}:1.8.2`, imageDigest: OTHER })).toBeNull();
  });

  it("matches a reference pinning the digest, and never another digest of the repository", () => {
    expect(matchImage(resolved, { image: `${REPO}@${DIGEST}` })).toBe("digest");
    expect(matchImage(resolved, { image: `${REPO}:1.8.2@${OTHER}` })).toBeNull();
  });

  it("matches the finding's tag and every tag the image carries now (no tag is latest)", () => {
    expect(matchImage(resolved, { image: `${REPO}:1.8.2` })).toBe("reference");
    expect(matchImage(resolved, { image: `${REPO}:latest` })).toBe("reference");
    expect(matchImage(resolved, { image: REPO })).toBe("reference");
    expect(matchImage(resolved, { image: `${REPO}:1.9.0` })).toBeNull();
  });

  it("leaves other repositories and registries alone", () => {
    expect(matchImage(resolved, { image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/other:1.8.2" })).toBeNull();
    expect(matchImage(resolved, { image: "210987654321.dkr.ecr.us-east-1.amazonaws.com/payments-api:1.8.2" })).toBeNull();
    expect(matchImage(resolved, { image: "payments-api:1.8.2" })).toBeNull();
  });

  it("matches by reference alone when the image could not be resolved (a registry it cannot read)", () => {
    const foreign = target("public.ecr.aws/x/y:tag", null);
    expect(matchImage(foreign, { image: "public.ecr.aws/x/y:tag" })).toBe("reference");
    expect(matchImage(foreign, { image: "public.ecr.aws/x/y:other" })).toBeNull();
    // A digest cannot be compared with an unknown one.
    expect(matchImage(foreign, { image: `public.ecr.aws/x/y@${DIGEST}` })).toBeNull();
  });

  it("a finding pinning a digest beside a tag does not match that tag when the image no longer carries it (the pull ignored the tag)", () => {
    // The tag moved to a clean image since; the compromised bytes carry only `old` now.
    const pinned = target(`${REPO}:1.8.2@${DIGEST}`, DIGEST, ["old"]);
    expect(matchImage(pinned, { image: `${REPO}:1.8.2` })).toBeNull();
    expect(matchImage(pinned, { image: `${REPO}:old` })).toBe("reference");
    // Not resolved (a registry it cannot read): the tag beside the digest says nothing either.
    expect(matchImage(target(`public.ecr.aws/x/y:tag@${DIGEST}`, null), { image: "public.ecr.aws/x/y:tag" })).toBeNull();
  });

  it("a digest-only finding does not match tag-only references unless the image's tags say so", () => {
    const pinned = target(`${REPO}@${DIGEST}`, null);
    expect(matchImage(pinned, { image: `${REPO}:latest` })).toBeNull();
    expect(matchImage(pinned, { image: `${REPO}@${DIGEST}` })).toBe("digest");
  });

  it("ignores what does not parse as an image reference or a digest", () => {
    expect(matchImage(resolved, { image: `${REPO}:1.8.2 ` })).toBeNull();
    expect(matchImage(resolved, { imageDigest: "sha256:short" })).toBeNull();
    expect(matchImage(resolved, {})).toBeNull();
  });
});

describe("matchAny", () => {
  it("prefers a digest match over a reference match", () => {
    const resolved = target(`${REPO}:1.8.2`, DIGEST, ["1.8.2"]);
    expect(matchAny(resolved, [{ image: "nginx:1.27" }, { image: `${REPO}:1.8.2` }, { image: `${REPO}@${DIGEST}` }])).toBe("digest");
    expect(matchAny(resolved, [{ image: "nginx:1.27" }, { image: `${REPO}:1.8.2` }])).toBe("reference");
    expect(matchAny(resolved, [{ image: "nginx:1.27" }])).toBeNull();
  });
});

describe("matchUnreported", () => {
  const resolved = target(`${REPO}:1.8.2`, DIGEST, ["1.8.2"]);

  it("does not let a definition's tag overrule the digest the task reports for that container", () => {
    // The task pulled 1.8.2 before the tag moved to the compromised bytes: it runs OTHER.
    const reported = [{ name: "app", image: `${REPO}:1.8.2`, imageDigest: OTHER }];
    expect(matchAny(resolved, reported)).toBeNull();
    expect(matchUnreported(resolved, reported, [{ name: "app", image: `${REPO}:1.8.2` }])).toBeNull();
  });

  it("matches through the definition's containers the task did not report (a sidecar)", () => {
    const reported = [{ name: "app", image: "nginx:1.27" }];
    expect(matchUnreported(resolved, reported, [{ name: "app", image: "nginx:1.27" }, { name: "sidecar", image: `${REPO}:1.8.2` }])).toBe("reference");
    expect(matchUnreported(resolved, [], [{ name: "app", image: `${REPO}:1.8.2` }])).toBe("reference");
  });
});
