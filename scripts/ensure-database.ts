// Creates the database named in DATABASE_URL when it does not exist yet, connecting to the
// server's `postgres` database to do it. Used by scripts/prisma.sh before migrate and friends.
import pg from "pg";
import { pgConfigFromUrl } from "../packages/core/src/db/pg-config.js";

const url = process.env["DATABASE_URL"];
if (!url) {
  console.error("ensure-database: DATABASE_URL is not set");
  process.exit(1);
}
const config = pgConfigFromUrl(url);
const name = config.database ?? "postgres";
const client = new pg.Client({ ...config, database: "postgres", connectionTimeoutMillis: 10_000 });
try {
  await client.connect();
  const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
  if (rowCount === 0) {
    try {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      console.log(`ensure-database: created database ${name}`);
    } catch (err) {
      // Someone else created it between the look and the create: that is what we wanted.
      if ((err as { code?: string }).code !== "42P04") throw err;
    }
  }
} catch (err) {
  console.error(`ensure-database: could not make sure database ${name} exists at ${config.host ?? "?"}:${config.port ?? "?"}: ${String(err)}`);
  process.exitCode = 1;
} finally {
  await client.end().catch(() => undefined);
}
