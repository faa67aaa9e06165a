import { describe, expect, it } from "vitest";
import { ecrRegistryOf, effectiveTag, parseImageReference, sameRepository } from "./image-ref.js";

const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("parseImageReference", () => {
  it("takes an ECR reference apart: registry, repository, tag", () => {
    expect(parseImageReference("123456789012.dkr.ecr.us-east-1.amazonaws.com/payments-api:1.8.2")).toEqual({
      raw: "123456789012.dkr.ecr.us-east-1.amazonaws.com/payments-api:1.8.2",
      registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com",
      repository: "payments-api",
      tag: "1.8.2",
      digest: null,
    });
  });

  it("keeps a digest, and a tag written beside it", () => {
    expect(parseImageReference(`123456789012.dkr.ecr.us-east-1.amazonaws.com/team/payments-api@${DIGEST}`)).toMatchObject({ repository: "team/payments-api", tag: null, digest: DIGEST });
    expect(parseImageReference(`public.ecr.aws/x/y:tag@${DIGEST}`)).toMatchObject({ registry: "public.ecr.aws", repository: "x/y", tag: "tag", digest: DIGEST });
  });

  it("puts a reference without a registry on Docker Hub, one-component names under library/", () => {
    expect(parseImageReference("nginx:1.27")).toMatchObject({ registry: "docker.io", repository: "library/nginx", tag: "1.27" });
    expect(parseImageReference("bitnami/redis")).toMatchObject({ registry: "docker.io", repository: "bitnami/redis", tag: null });
    expect(parseImageReference("docker.io/library/nginx:1.27")).toMatchObject({ registry: "docker.io", repository: "library/nginx" });
    // Docker Hub's other host names are Docker Hub, one-component names under library/ there too.
    expect(parseImageReference("index.docker.io/nginx:1.27")).toMatchObject({ registry: "docker.io", repository: "library/nginx" });
    expect(parseImageReference("registry-1.docker.io/nginx")).toMatchObject({ registry: "docker.io", repository: "library/nginx" });
  });

  it("tells a registry port from a tag", () => {
    expect(parseImageReference("registry.local:5000/app")).toMatchObject({ registry: "registry.local:5000", repository: "app", tag: null });
    expect(parseImageReference("localhost/app:2")).toMatchObject({ registry: "localhost", repository: "app", tag: "2" });
  });

  it("refuses what core's IMAGE_REFERENCE refuses", () => {
    for (const bad of ["", "UPPER/case", "nginx:1.27 ", "nginx;rm -rf /", "nginx@sha256:abc", "nｇinx", 42]) {
      expect(() => parseImageReference(bad), String(bad)).toThrow(/container image reference|no valid repository path/);
    }
  });

  it("pulls latest when neither tag nor digest is written", () => {
    expect(effectiveTag(parseImageReference("nginx"))).toBe("latest");
    expect(effectiveTag(parseImageReference("nginx:1.27"))).toBe("1.27");
  });
});

describe("ecrRegistryOf", () => {
  it("reads account and region from ECR hosts, FIPS and China included", () => {
    expect(ecrRegistryOf({ registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com" })).toEqual({ accountId: "123456789012", region: "us-east-1", fips: false });
    expect(ecrRegistryOf({ registry: "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com" })).toEqual({ accountId: "123456789012", region: "us-gov-west-1", fips: true });
    expect(ecrRegistryOf({ registry: "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn" })).toEqual({ accountId: "123456789012", region: "cn-north-1", fips: false });
  });

  it("is null for public and other registries, and look-alike hosts", () => {
    for (const registry of ["public.ecr.aws", "docker.io", "ghcr.io", "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.io", "12345678901.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com.cn", "123456789012.dkr.ecr.cn-north-1.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com:443", "evil.com.123456789012.dkr.ecr.us-east-1.amazonaws.com"]) {
      expect(ecrRegistryOf({ registry }), registry).toBeNull();
    }
  });
});

describe("hostile references", () => {
  it("a registry look-alike, another account or region, or uppercase never reads as this account's ECR elsewhere", () => {
    expect(ecrRegistryOf(parseImageReference("123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com/x"))).toBeNull();
    // Host names are case-insensitive: the uppercase spelling is the same registry.
    expect(ecrRegistryOf(parseImageReference("123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM/x:1"))).toEqual({ accountId: "123456789012", region: "us-east-1", fips: false });
    // Repository paths are lowercase only (Docker's grammar): an uppercase path is refused, never folded.
    expect(() => parseImageReference("123456789012.dkr.ecr.us-east-1.amazonaws.com/X:1")).toThrow();
    const own = parseImageReference("123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1");
    for (const other of ["123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com/x:1", "210987654321.dkr.ecr.us-east-1.amazonaws.com/x:1", "123456789012.dkr.ecr.us-west-2.amazonaws.com/x:1", "x:1"]) {
      expect(sameRepository(own, parseImageReference(other)), other).toBe(false);
    }
  });
});

describe("sameRepository", () => {
  it("holds an ECR registry's FIPS and standard endpoints for one registry", () => {
    const a = parseImageReference("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1");
    const b = parseImageReference("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/app:1");
    expect(sameRepository(a, b)).toBe(true);
    expect(sameRepository(a, parseImageReference("123456789012.dkr.ecr.us-west-2.amazonaws.com/app:1"))).toBe(false);
    expect(sameRepository(parseImageReference("nginx"), parseImageReference("docker.io/library/nginx"))).toBe(true);
  });
});
