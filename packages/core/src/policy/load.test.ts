import { describe, expect, it } from "vitest";
import { PolicyError } from "./errors.js";
import { loadPolicyFile, parsePolicy } from "./load.js";

const MINIMAL = `version: 1
accounts:
  allow: ["*"]
rules: []
`;

function problemsOf(text: string): readonly string[] {
  try {
    parsePolicy(text, "test.yaml");
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as PolicyError).problems;
  }
  throw new Error("expected the policy to be rejected");
}

/** A valid policy with the given rules block appended. */
const withRules = (rules: string, allow = '["*"]'): string => `version: 1\naccounts:\n  allow: ${allow}\nrules:\n${rules}`;

describe("parsePolicy", () => {
  it("fills in defaults for the optional sections", () => {
    const policy = parsePolicy(MINIMAL, "minimal.yaml");
    expect(policy.exemptTag).toEqual({ key: "guardduty-remediation", value: "exempt" });
    expect(policy.approval).toEqual({ expiry: "24h", expiryMs: 86_400_000, onExpiry: "cancel" });
    expect(policy.defaults).toEqual({ mode: "notify" });
    expect(policy.rules).toEqual([]);
  });

  it("reads approval settings and turns the expiry into milliseconds", () => {
    const policy = parsePolicy(`${MINIMAL}approval: { expiry: 30m, onExpiry: contain }\n`, "a.yaml");
    expect(policy.approval).toEqual({ expiry: "30m", expiryMs: 1_800_000, onExpiry: "contain" });
  });

  it("returns a deep-frozen policy", () => {
    const policy = parsePolicy(withRules("  - name: r\n    match: { types: [\"A:*\"] }\n    mode: auto\n"), "f.yaml");
    expect(Object.isFrozen(policy)).toBe(true);
    // Modules are strict mode, so writing to a frozen object throws rather than doing nothing.
    expect(() => {
      (policy as { version: number }).version = 2;
    }).toThrow(TypeError);
    expect(() => {
      (policy.rules as unknown[]).push({});
    }).toThrow(TypeError);
    expect(() => {
      (policy.rules[0]?.match.types as string[])[0] = "*";
    }).toThrow(TypeError);
    expect(() => {
      (policy.accounts.allow as string[]).length = 0;
    }).toThrow(TypeError);
  });

  it("lists every problem of a broken file in one error, each with its path and line", () => {
    const text = `version: 1
accounts:
  allow: ["12345"]
approval: { expiry: 90s, onExpiry: later }
rules:
  - name: first
    match: { severity: { min: 8, max: 7 } }
    mode: sometimes
  - name: first
    match: { resourceTypes: [Instance, AccessKey] }
    playbook: instance
    mode: auto
  - name: third
    match: { resourceTypes: [Bucket] }
    mode: auto
`;
    let error: unknown;
    try {
      parsePolicy(text, "broken.yaml");
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PolicyError);
    const { message, problems, source } = error as PolicyError;
    expect(source).toBe("broken.yaml");
    expect(message).toContain("invalid policy file broken.yaml (8 problems)");
    expect(problems).toEqual([
      'accounts.allow[0]: must be a 12-digit account id or "*" (line 3)',
      "approval.expiry: must be a whole number of minutes, hours or days, e.g. 30m, 24h, 7d (line 4)",
      "approval.onExpiry: must be one of cancel, contain (line 4)",
      "rules[0].match.severity.min: min 8 is greater than max 7 (line 7)",
      "rules[0].mode: must be one of auto, approval, dry-run, notify, ignore (line 8)",
      'rules[1].name: duplicate rule name "first" (first used by rules[0]) (line 9)',
      "rules[1].playbook: instance cannot act on AccessKey (it handles Instance) (line 11)",
      "rules[2].match.resourceTypes[0]: must be one of Instance, EKSCluster, ECSCluster, Container, AccessKey (line 14)",
    ]);
  });

  it("reports a YAML syntax error with its line", () => {
    const problems = problemsOf("version: 1\naccounts:\n  allow: [\"*\"\nrules: []\n");
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^line 4, column 1: YAML: /);
  });

  it("rejects a key that YAML sees twice", () => {
    expect(problemsOf(`${MINIMAL}version: 1\n`)).toEqual(["line 5, column 1: YAML: Map keys must be unique"]);
  });

  it("rejects a misspelt key and suggests the right one", () => {
    const problems = problemsOf(withRules("  - name: r\n    match: { type: [\"A:*\"] }\n    mode: auto\n    playbok: instance\n"));
    expect(problems).toEqual([
      'rules[0].match.type: unknown key (did you mean "types"?) (line 6)',
      'rules[0].playbok: unknown key (did you mean "playbook"?) (line 8)',
    ]);
    expect(problemsOf(`${MINIMAL}Defaults: { mode: ignore }\n`)).toEqual([
      'Defaults: unknown key (did you mean "defaults"?) (line 5)',
    ]);
  });

  it("says what is missing", () => {
    expect(problemsOf("rules: []\n")).toEqual(["version: is required (line 1)", "accounts: is required (line 1)"]);
    expect(problemsOf(withRules("  - match: {}\n"))).toEqual(["rules[0].name: is required (line 5)", "rules[0].mode: is required (line 5)"]);
  });

  it("rejects an empty file", () => {
    expect(problemsOf("")).toEqual(["the file is empty; policy/README.md describes the format"]);
    expect(problemsOf("# only a comment\n")).toHaveLength(1);
  });

  it("asks for account ids as quoted strings, 12 digits, and '*' alone", () => {
    expect(problemsOf(withRules("  []\n", "[111122223333]"))[0]).toMatch(/^accounts\.allow\[0\]: must be a quoted string/);
    expect(problemsOf(withRules("  []\n", '["1111222233334"]'))).toEqual(['accounts.allow[0]: must be a 12-digit account id or "*" (line 3)']);
    expect(problemsOf(withRules("  []\n", '["*", "111122223333"]'))).toEqual([
      'accounts.allow: "*" already allows every account; list account ids or "*", not both (line 3)',
    ]);
    expect(problemsOf(withRules("  []\n", "[]"))).toEqual(["accounts.allow: must not be an empty list (line 3)"]);
  });

  it("rejects a rule account that the allow list would never let through", () => {
    const rules = '  - name: r\n    match: { accounts: ["444455556666", "111122223333"] }\n    mode: auto\n';
    expect(problemsOf(withRules(rules, '["111122223333"]'))).toEqual([
      "rules[0].match.accounts[0]: account 444455556666 is not in accounts.allow, so this rule can never see it (line 6)",
    ]);
  });

  it("rejects a playbook that cannot handle what the rule matches", () => {
    expect(problemsOf(withRules("  - name: r\n    match: { types: [\"Execution:*\"] }\n    playbook: container-image\n    mode: auto\n"))).toEqual([
      "rules[0].playbook: container-image only handles ECSCluster, EKSCluster, Container; limit match.resourceTypes to those (line 7)",
    ]);
    const fits = parsePolicy(
      withRules("  - name: r\n    match: { resourceTypes: [ECSCluster, EKSCluster, Container] }\n    playbook: container-image\n    mode: approval\n"),
      "ok.yaml",
    );
    expect(fits.rules[0]?.playbook).toBe("container-image");
  });

  it("rejects glob patterns that are empty, non-ASCII or contain spaces", () => {
    expect(problemsOf(withRules('  - name: r\n    match: { types: ["", "Exécution:*", "A B"] }\n    mode: auto\n'))).toEqual(
      [0, 1, 2].map((i) => `rules[0].match.types[${i}]: must be non-empty printable ASCII without spaces (* matches any run of characters) (line 6)`),
    );
  });

  it("rejects severity that is neither a band, a list of bands, nor a range", () => {
    const rule = (severity: string): string => withRules(`  - name: r\n    match: { severity: ${severity} }\n    mode: auto\n`);
    expect(problemsOf(rule("hihg"))).toEqual(["rules[0].match.severity: must be one of low, medium, high, critical (line 6)"]);
    expect(problemsOf(rule("[high, urgent]"))).toEqual(["rules[0].match.severity[1]: must be one of low, medium, high, critical (line 6)"]);
    expect(problemsOf(rule("{ min: 7, mx: 9 }"))).toEqual(['rules[0].match.severity.mx: unknown key (did you mean "max"?) (line 6)']);
    expect(problemsOf(rule("{ min: 11 }"))).toEqual(["rules[0].match.severity.min: must be at most 10 (line 6)"]);
    expect(problemsOf(rule("7"))).toEqual([
      "rules[0].match.severity: must be a severity band (low, medium, high, critical), a list of bands, or { min, max } (line 6)",
    ]);
  });

  it("rejects a rule that matches everything unless it is the last one", () => {
    const catchAll = "  - name: all\n    match: {}\n    mode: notify\n";
    const other = "  - name: other\n    match: { severity: high }\n    mode: auto\n";
    expect(problemsOf(withRules(catchAll + other))).toEqual([
      "rules[0].match: matches every finding, so the rule after it can never match; move it last or use defaults (line 6)",
    ]);
    expect(parsePolicy(withRules(other + catchAll), "ok.yaml").rules).toHaveLength(2);
  });

  it("reserves the rule name 'defaults' and limits rule names to plain words", () => {
    expect(problemsOf(withRules("  - name: defaults\n    match: {}\n    mode: auto\n"))).toEqual([
      'rules[0].name: "defaults" is reserved for the defaults section (line 5)',
    ]);
    expect(problemsOf(withRules('  - name: "two words"\n    match: {}\n    mode: auto\n'))[0]).toMatch(/^rules\[0\]\.name: must be 1-64 letters/);
  });

  it("bounds the approval expiry", () => {
    expect(problemsOf(`${MINIMAL}approval: { expiry: 31d }\n`)).toEqual(["approval.expiry: must be between 1m and 30d (line 5)"]);
    expect(problemsOf(`${MINIMAL}approval: { expiry: 0h }\n`)[0]).toMatch(/^approval\.expiry: must be a whole number/);
  });

  it("accepts only version 1", () => {
    expect(problemsOf(MINIMAL.replace("version: 1", "version: 2"))).toEqual(["version: must be 1 (line 1)"]);
  });
});

describe("loadPolicyFile", () => {
  it("fails with a PolicyError when the file cannot be read", () => {
    expect(() => loadPolicyFile("/nonexistent/policy.yaml")).toThrow(PolicyError);
    expect(() => loadPolicyFile("/nonexistent/policy.yaml")).toThrow(/cannot read the file: ENOENT/);
  });
});
