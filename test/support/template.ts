import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { databaseUrl, quoteIdent, redactUrl } from "./db-url.js";
import { repoRoot } from "./repo-root.js";

const run = promisify(execFile);

/** Names this run's template; per-file databases are gdr_t_<runId>_<random>. */
export function templateName(runId: string): string {
  return `gdr_test_template_${runId}`;
}

export function testDatabasePrefix(runId: string): string {
  return `gdr_t_${runId}_`;
}

/**
 * Creates the template database afresh and migrates it with the real `prisma migrate deploy`, so
 * every run exercises the migrations exactly as a deployment would. The name carries the run id:
 * two runs on one server (two developers, or a developer and CI) must not drop each other's
 * template, and Postgres refuses to copy a template while another session is connected to it.
 */
export async function buildTemplate(adminUrl: string, runId: string): Promise<string> {
  const name = templateName(runId);
  await admin(adminUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${quoteIdent(name)}`);
  });
  const prisma = join(repoRoot, "node_modules", ".bin", "prisma");
  if (!existsSync(prisma)) throw new Error(`${prisma} is missing: run npm ci`);
  const url = databaseUrl(adminUrl, name);
  try {
    await run(prisma, ["migrate", "deploy"], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(
      `prisma migrate deploy failed against ${redactUrl(url)}:\n${e.stdout ?? ""}${e.stderr ?? String(err)}`,
    );
  }
  return name;
}

/** Drops this run's template and any per-file database a crashed test file left behind. */
export async function dropRunDatabases(adminUrl: string, runId: string): Promise<void> {
  await admin(adminUrl, async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname = $1 OR starts_with(datname, $2)",
      [templateName(runId), testDatabasePrefix(runId)],
    );
    for (const { datname } of rows) {
      await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    }
  });
}

/**
 * Drops databases left by earlier runs whose process is gone (killed, or the machine stopped
 * mid-run). Run ids are process ids, so this only makes sense for a server on this machine.
 */
export async function sweepDeadRuns(adminUrl: string): Promise<string[]> {
  const dropped: string[] = [];
  await admin(adminUrl, async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname ~ '^gdr_(test_template|t)_[0-9]+'",
    );
    for (const { datname } of rows) {
      const pid = Number(/^gdr_(?:test_template|t)_(\d+)/.exec(datname)?.[1]);
      if (pid === process.pid || processAlive(pid)) continue;
      await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
      dropped.push(datname);
    }
  });
  return dropped;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Runs `fn` on a short-lived connection to the admin database. */
export async function admin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
