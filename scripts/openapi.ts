// `npm run openapi`: writes docs/openapi.json, the OpenAPI document exactly as the API serves it at
// /docs/json. test/api/openapi.test.ts fails when a route changed without running this again.
//
// The app is built with stub dependencies: building it and asking for its document touches no
// database, Redis or policy decision, so no service has to run. Every stub throws if a route ever
// did call it. The policy is the real default file (loading it is pure).
import { writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { PrismaClient } from "@gdr/core/db/client";
import { createLogger } from "@gdr/core/log";
import { loadPolicyFile } from "@gdr/core/policy/index";
import { buildApp } from "../services/api/src/app.js";
import type { ApiDeps } from "../services/api/src/deps.js";

export const OPENAPI_FILE = fileURLToPath(new URL("../docs/openapi.json", import.meta.url));

const unavailable = (what: string) => () => Promise.reject(new Error(`openapi: the ${what} stub was called; building the document must not need it`));

function stubDeps(): ApiDeps {
  const prisma = new Proxy({}, { get: (_target, key) => unavailable(`prisma.${String(key)}`) }) as unknown as PrismaClient;
  return {
    prisma,
    queues: new Map(),
    pause: { isPaused: unavailable("pause"), pause: unavailable("pause"), resume: unavailable("pause") },
    policy: loadPolicyFile(fileURLToPath(new URL("../policy/default.yaml", import.meta.url))),
    logger: createLogger({ level: "silent", name: "openapi" }),
    checks: {},
  };
}

/** The document as served, pretty-printed with a final newline (the committed file's exact text). */
export async function renderOpenApi(): Promise<string> {
  const app = await buildApp(stubDeps(), { bodyLimit: 262_144, rateLimitPerMinute: 1_000 });
  try {
    // What /docs/json serves (to a token holder): @fastify/swagger's document of the ready app.
    await app.ready();
    return `${JSON.stringify(app.swagger(), null, 2)}\n`;
  } finally {
    await app.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(OPENAPI_FILE, await renderOpenApi());
  console.log(`wrote ${OPENAPI_FILE}`);
}
