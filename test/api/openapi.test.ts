// docs/openapi.json is the document the API serves at /docs/json. A route or schema change without
// `npm run openapi` fails here, so the committed contract never drifts from the code.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { OPENAPI_FILE, renderOpenApi } from "../../scripts/openapi.js";

describe("docs/openapi.json", () => {
  it("equals what the app serves now (run `npm run openapi` after changing a route)", async () => {
    const served = await renderOpenApi();
    const committed = readFileSync(OPENAPI_FILE, "utf8");
    expect(JSON.parse(committed)).toEqual(JSON.parse(served));
    expect(committed).toBe(served);
  });

  it("documents the routes added for operations, and hides the queue dashboard's own", async () => {
    const doc = JSON.parse(await renderOpenApi()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    expect(doc.paths["/v1/findings"]?.["post"]).toBeDefined();
    expect(doc.paths["/v1/remediations/{id}/retry"]?.["post"]).toBeDefined();
    // Only /healthz opts out of the document's global bearer requirement.
    expect(Object.entries(doc.paths).filter(([, methods]) => Object.values(methods).some((op) => op.security?.length === 0)).map(([path]) => path)).toEqual(["/healthz"]);
    expect(doc.paths["/metrics"]?.["get"]).toBeDefined();
    expect(Object.keys(doc.paths).filter((p) => p.startsWith("/admin"))).toEqual([]);
  });
});
