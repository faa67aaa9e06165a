import { describe, expect, it } from "vitest";
import { accountRefusal } from "./accounts.js";

describe("accountRefusal", () => {
  it("allows a listed account or every account with *, and names the account it refuses", () => {
    expect(accountRefusal({ accounts: { allow: ["*"] } }, "123456789012")).toBeNull();
    expect(accountRefusal({ accounts: { allow: ["123456789012"] } }, "123456789012")).toBeNull();
    expect(accountRefusal({ accounts: { allow: ["111122223333"] } }, "123456789012")).toBe("account 123456789012 is not in the policy's accounts.allow");
  });
});
