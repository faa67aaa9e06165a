// Policies for a worker, which reads POLICY_FILE at start.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Writes a policy file (YAML) for a worker and returns its path. */
export function policyFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "gdr-gates-policy-"));
  const path = join(dir, "policy.yaml");
  writeFileSync(path, yaml);
  return path;
}

export function policyAllowing(accounts: readonly string[], rules: readonly string[]): string {
  return ["version: 1", `accounts: { allow: [${accounts.map((a) => JSON.stringify(a)).join(", ")}] }`, "rules:", ...rules.map((r) => `  - ${r}`), ""].join("\n");
}
