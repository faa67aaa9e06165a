import { describe, expect, it } from "vitest";
import { globMatch } from "./glob.js";

describe("globMatch", () => {
  it("matches exactly when there is no star, case-sensitively", () => {
    expect(globMatch("Recon:EC2/PortProbeUnprotectedPort", "Recon:EC2/PortProbeUnprotectedPort")).toBe(true);
    expect(globMatch("Recon:EC2/PortProbeUnprotectedPort", "Recon:EC2/PortProbeUnprotectedPortX")).toBe(false);
    expect(globMatch("recon:ec2/portprobeunprotectedport", "Recon:EC2/PortProbeUnprotectedPort")).toBe(false);
    expect(globMatch("", "")).toBe(true);
  });

  it("lets * match any run of characters, including none", () => {
    expect(globMatch("*", "anything at all")).toBe(true);
    expect(globMatch("*", "")).toBe(true);
    expect(globMatch("Execution:Runtime/*", "Execution:Runtime/ReverseShell")).toBe(true);
    expect(globMatch("Execution:Runtime/*", "Execution:Runtime/")).toBe(true);
    expect(globMatch("Execution:Runtime/*", "Execution:EC2/MaliciousFile")).toBe(false);
    expect(globMatch("*:Runtime/*", "CryptoCurrency:Runtime/BitcoinTool.B")).toBe(true);
    expect(globMatch("*/SSHBruteForce", "UnauthorizedAccess:EC2/SSHBruteForce")).toBe(true);
    expect(globMatch("Crypto**Tool*", "CryptoCurrency:EC2/BitcoinTool.B!DNS")).toBe(true);
    expect(globMatch("a*a", "a")).toBe(false); // the prefix and suffix may not overlap
    expect(globMatch("ab*ba", "aba")).toBe(false);
    expect(globMatch("ab*ba", "abba")).toBe(true);
  });

  it("treats regex metacharacters in finding types as plain characters", () => {
    const type = "Backdoor:Runtime/C&CActivity.B!DNS";
    expect(globMatch(type, type)).toBe(true);
    expect(globMatch("Backdoor:Runtime/C&CActivity.B*", type)).toBe(true);
    expect(globMatch("Backdoor:Runtime/C&CActivity?B!DNS", type)).toBe(false); // ? is no wildcard
    expect(globMatch("a.c", "abc")).toBe(false); // . is no wildcard
    expect(globMatch("a+", "aa")).toBe(false);
    expect(globMatch("a+", "a+")).toBe(true);
    expect(globMatch("(x|y)*", "(x|y)z")).toBe(true);
    expect(globMatch("(x|y)*", "x")).toBe(false);
    expect(globMatch("[ab]", "a")).toBe(false);
    expect(globMatch("^a$\\", "^a$\\")).toBe(true);
  });

  it("agrees with a reference matcher on every small pattern and text", () => {
    const alphabet = ["a", "b"];
    const words = (length: number): string[] =>
      length === 0 ? [""] : words(length - 1).flatMap((w) => alphabet.map((c) => w + c));
    const texts = [0, 1, 2, 3, 4, 5].flatMap(words);
    const patterns = [0, 1, 2, 3, 4].flatMap((n) => {
      const out: string[] = [""];
      for (let i = 0; i < n; i++) out.splice(0, out.length, ...out.flatMap((p) => ["a", "b", "*"].map((c) => p + c)));
      return out;
    });
    for (const pattern of patterns) {
      // Only [ab*] here, so this regex is safe and small; it is the oracle, not the implementation.
      const reference = new RegExp(`^${pattern.replaceAll("*", ".*")}$`);
      for (const text of texts) expect(globMatch(pattern, text), `${pattern} vs ${text}`).toBe(reference.test(text));
    }
  });

  it("returns on pathological input that sends backtracking matchers exponential", () => {
    const text = "a".repeat(100_000);
    expect(globMatch(`${"*a".repeat(10_000)}*b`, text)).toBe(false);
    expect(globMatch(`${"*a".repeat(10_000)}*`, text)).toBe(true);
    expect(globMatch(`*${"a".repeat(5_000)}b*`, text)).toBe(false); // KMP: no re-scanning
    expect(globMatch(`${"a*".repeat(50_000)}b`, text)).toBe(false);
  });
});
