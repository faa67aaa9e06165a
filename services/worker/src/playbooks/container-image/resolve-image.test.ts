import { describe, expect, it } from "vitest";
import { unwritableReason } from "./01-resolve-image.js";
import { parseImageReference } from "./image-ref.js";

const here = { accountId: "123456789012", region: "us-east-1" };
const reason = (ref: string): string | null => unwritableReason(parseImageReference(ref), here);

describe("which registries the service can write to", () => {
  it("is this account's ECR in this region, on its standard or FIPS endpoint", () => {
    expect(reason("123456789012.dkr.ecr.us-east-1.amazonaws.com/payments-api:1.8.2")).toBeNull();
    expect(reason("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/payments-api:1.8.2")).toBeNull();
  });

  it("is not another account's ECR, another region's, ECR Public or any other registry, and says which", () => {
    expect(reason("210987654321.dkr.ecr.us-east-1.amazonaws.com/payments-api:1.8.2")).toBe(
      "210987654321.dkr.ecr.us-east-1.amazonaws.com is account 210987654321's ECR registry, not 123456789012's: a registry the service cannot write to",
    );
    expect(reason("123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments-api:1.8.2")).toBe(
      "123456789012.dkr.ecr.eu-west-1.amazonaws.com is the ECR registry of eu-west-1, not of us-east-1: a registry the service cannot write to",
    );
    for (const ref of ["public.ecr.aws/x/y:tag", "nginx:1.27", "ghcr.io/acme/app:1"]) {
      expect(reason(ref), ref).toMatch(/is not an Amazon ECR private registry \(a public or third-party registry\): a registry the service cannot write to$/);
    }
  });
});
