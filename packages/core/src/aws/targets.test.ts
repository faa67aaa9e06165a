import { describe, expect, it } from "vitest";
import { ACCOUNT_ID, REGION } from "../findings/patterns.js";
import { ACCOUNT_ID_PATTERN, REGION_PATTERN, assertAccountId, assertRegion, partitionOf, roleArn } from "./targets.js";

describe("AWS target checks", () => {
  it("use findings/patterns.ts's account id and region patterns", () => {
    expect(ACCOUNT_ID_PATTERN).toBe(ACCOUNT_ID.regex);
    expect(REGION_PATTERN).toBe(REGION.regex);
  });

  it("accept the European Sovereign Cloud's region, in the aws-eusc partition", () => {
    expect(() => { assertRegion("eusc-de-east-1"); }).not.toThrow();
    expect(partitionOf("eusc-de-east-1")).toBe("aws-eusc");
    expect(roleArn(partitionOf("eusc-de-east-1"), "123456789012", "GuardDutyResponder")).toBe(
      "arn:aws-eusc:iam::123456789012:role/GuardDutyResponder",
    );
  });

  it("name each region's partition", () => {
    expect(
      Object.fromEntries(["us-east-1", "cn-northwest-1", "us-gov-west-1", "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1", "us-isof-south-1"].map((r) => [r, partitionOf(r)])),
    ).toEqual({
      "us-east-1": "aws",
      "cn-northwest-1": "aws-cn",
      "us-gov-west-1": "aws-us-gov",
      "us-iso-east-1": "aws-iso",
      "us-isob-east-1": "aws-iso-b",
      "eu-isoe-west-1": "aws-iso-e",
      "us-isof-south-1": "aws-iso-f",
    });
  });

  it("refuse what is not an account id or a region", () => {
    for (const bad of ["12345678901", "1234567890123", "12345678901２", " 123456789012"]) expect(() => { assertAccountId(bad); }).toThrow(/account id/);
    for (const bad of ["us-east-1.evil.example", "US-EAST-1", "us-east", "us-east-1\n", "eusc-de-east-123"]) expect(() => { assertRegion(bad); }).toThrow(/region/);
  });
});
