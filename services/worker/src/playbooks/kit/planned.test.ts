import { describe, expect, it } from "vitest";
import { SECURITY_GROUP_ID } from "@gdr/core/findings/patterns";
import { answeredId, isPlaceholder, resultOf } from "./planned.js";

describe("resultOf", () => {
  it("names the answer an approver will see in place of an id", () => {
    expect(resultOf("CreateSecurityGroup", "GroupId")).toBe("(the group CreateSecurityGroup returns)");
    expect(resultOf("CreateSnapshot", "SnapshotId")).toBe("(the snapshot CreateSnapshot returns)");
    expect(resultOf("CreateAccessKey", "AccessKeyId")).toBe("(the access key CreateAccessKey returns)");
  });

  it("is told apart from an identifier", () => {
    expect(isPlaceholder(resultOf("CreateSecurityGroup", "GroupId"))).toBe(true);
    expect(isPlaceholder("sg-0123456789abcdef0")).toBe(false);
  });
});

describe("answeredId", () => {
  const placeholder = resultOf("CreateSecurityGroup", "GroupId");

  it("takes a placeholder only outside act mode", () => {
    expect(answeredId({ mode: "plan" }, SECURITY_GROUP_ID, placeholder, "the group")).toBe(placeholder);
    expect(answeredId({ mode: "dry_run" }, SECURITY_GROUP_ID, placeholder, "the group")).toBe(placeholder);
    expect(() => answeredId({ mode: "act" }, SECURITY_GROUP_ID, placeholder, "the group")).toThrow(/is not a security group id/);
  });

  it("checks a real answer in every mode", () => {
    expect(answeredId({ mode: "act" }, SECURITY_GROUP_ID, "sg-0123456789abcdef0", "the group")).toBe("sg-0123456789abcdef0");
    expect(() => answeredId({ mode: "plan" }, SECURITY_GROUP_ID, "sg-nope", "the group")).toThrow(/is not a security group id/);
  });
});
