// The layering rules in eslint.config.js, run through ESLint's Node API on code given as a string
// under an existing file's name: a relative import out of the file's own workspace package (at any
// depth, into a sibling service or into packages/samples) and a dynamic import() of a refused
// package are errors; imports inside the package and of @gdr/core are not.
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { repoRoot } from "./support/repo-root.js";

const eslint = new ESLint({ cwd: repoRoot });

async function layeringErrors(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, filePath) });
  return (result?.messages ?? []).filter((m) => m.ruleId === "gdr/workspace-imports" || m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("lint layering", () => {
  it("refuses a relative import from one service into a sibling service", async () => {
    const errors = await layeringErrors(`export { createWorkerService } from "../../../../worker/src/service.js";\n`, "services/api/src/routes/v1/retry.ts");
    expect(errors).toEqual([expect.stringMatching(/may not leave its package \(services\/api\)/)]);
  });

  it("refuses a relative import from core into packages/samples", async () => {
    const errors = await layeringErrors(`export { instanceFinding } from "../../../samples/src/findings.js";\n`, "packages/core/src/approvals/expire.ts");
    expect(errors).toEqual([expect.stringMatching(/may not leave its package \(packages\/core\)/)]);
  });

  it("refuses a dynamic import() of another service, by literal or template", async () => {
    const code = "export const a = (): Promise<unknown> => import(\"@gdr/worker/service\");\nexport const b = (n: string): Promise<unknown> => import(`@gdr/ingest/${n}`);\n";
    const errors = await layeringErrors(code, "services/api/src/routes/v1/retry.ts");
    expect(errors).toHaveLength(2);
    for (const e of errors) expect(e).toMatch(/A service imports only @gdr\/core.*\(dynamic import\)/);
  });

  it("lets a file import inside its package and import @gdr/core, statically or dynamically", async () => {
    const code = 'export { errorBody } from "../../plugins/errors.js";\nexport const c = (): Promise<unknown> => import("@gdr/core/log");\n';
    expect(await layeringErrors(code, "services/api/src/routes/v1/retry.ts")).toEqual([]);
  });
});
