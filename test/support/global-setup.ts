// Vitest globalSetup for the integration project: runs once in the main process, before any test
// file. Chooses the services, builds the migrated template database, and hands the URLs to the
// test files (inject(...)), which then make their own database, Redis prefix and moto server.
import { existsSync } from "node:fs";
import type { TestProject } from "vitest/node";
import "./provided.js";
import { isLoopbackHost, redactUrl } from "./db-url.js";
import { motoServerPath } from "./repo-root.js";
import { chooseServices } from "./services.js";
import { buildTemplate, dropRunDatabases, sweepDeadRuns } from "./template.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!existsSync(motoServerPath)) {
    throw new Error(`${motoServerPath} is missing: run bash scripts/ensure-moto.sh (or npm test, which runs it)`);
  }
  const started = Date.now();
  const services = await chooseServices();
  const runId = String(process.pid);
  try {
    if (services.databaseSource !== "testcontainers" && isLoopbackHost(new URL(services.databaseUrl).hostname)) {
      const dropped = await sweepDeadRuns(services.databaseUrl);
      if (dropped.length > 0) console.log(`[test setup] dropped ${dropped.length} database(s) of dead runs`);
    }
    const template = await buildTemplate(services.databaseUrl, runId);
    project.provide("gdrAdminDatabaseUrl", services.databaseUrl);
    project.provide("gdrTemplateDatabase", template);
    project.provide("gdrRedisUrl", services.redisUrl);
    project.provide("gdrRunId", runId);
    console.log(
      `[test setup] postgres ${redactUrl(services.databaseUrl)} (${services.databaseSource}), ` +
        `redis ${redactUrl(services.redisUrl)} (${services.redisSource}), ` +
        `template ${template} migrated in ${Date.now() - started} ms`,
    );
  } catch (err) {
    await services.stop();
    throw err;
  }

  return async () => {
    try {
      await dropRunDatabases(services.databaseUrl, runId);
    } finally {
      await services.stop();
    }
  };
}
