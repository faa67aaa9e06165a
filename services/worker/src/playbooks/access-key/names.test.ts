import { describe, expect, it } from "vitest";
import { revokePolicyName, roleLockName } from "./names.js";

describe("the revocation policy's name", () => {
  it("carries the whole remediation id (63 characters; IAM allows 128), so two remediations never share a name", () => {
    const id = "0f8e2c4a-1b3d-4e5f-8a9b-0c1d2e3f4a5b";
    const name = revokePolicyName(id);
    expect(name).toBe(`guardduty-responder-revoke-${id}`);
    expect(name).toHaveLength(63);
    expect(name).toMatch(/^[\w+=,.@-]{1,128}$/);
    // Two ids sharing their first 8 hex characters name two policies.
    expect(revokePolicyName("0f8e2c4a-0000-4000-8000-000000000000")).not.toBe(name);
  });

  it("refuses anything but a remediation id", () => {
    expect(() => revokePolicyName("0f8e2c4a")).toThrow();
  });

  it("locks a role by its name in lower case (IAM role names are unique case-insensitively)", () => {
    expect(roleLockName("123456789012", "App-Server-Role")).toBe(roleLockName("123456789012", "app-server-role"));
  });
});
