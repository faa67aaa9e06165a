import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import pg from "pg";
import { inject } from "vitest";
import "./provided.js";
import { pgConfigFromUrl } from "../../packages/core/src/db/pg-config.js";
import { databaseUrl, quoteIdent, randomSuffix } from "./db-url.js";
import { admin, testDatabasePrefix } from "./template.js";

export interface TestDatabase {
  /** The database's name (gdr_t_<runId>_<random>). */
  name: string;
  /** Its URL, for code under test and for child processes (DATABASE_URL). */
  url: string;
  /** A Prisma Client through the pg adapter, as the services build theirs. */
  prisma: PrismaClient;
  /** Plain node-postgres, for asserting on rows without going through the code under test. */
  pool: pg.Pool;
  /** Disconnects both clients, then drops the database (forcing off any connection left). */
  drop(): Promise<void>;
}

/**
 * A database of its own for one test file, copied from the migrated template that global setup
 * built: full isolation at the cost of one CREATE DATABASE (tens of milliseconds).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject("gdrAdminDatabaseUrl");
  const template = inject("gdrTemplateDatabase");
  const name = `${testDatabasePrefix(inject("gdrRunId"))}${randomSuffix()}`;
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`));

  const url = databaseUrl(adminUrl, name);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pgConfigFromUrl(url)) });
  const pool = new pg.Pool(pgConfigFromUrl(url));
  // An idle pooled connection that dies (a test cutting the network, drop()'s FORCE) emits
  // 'error' on the pool, which would otherwise crash the worker; queries still reject as usual.
  pool.on("error", () => undefined);

  let dropped = false;
  return {
    name,
    url,
    prisma,
    pool,
    async drop() {
      if (dropped) return;
      dropped = true;
      await Promise.allSettled([prisma.$disconnect(), pool.end()]);
      await admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
    },
  };
}
