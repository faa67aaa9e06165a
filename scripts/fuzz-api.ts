// Helpers for scripts/fuzz-api.sh, against the throwaway database in DATABASE_URL:
//   tsx scripts/fuzz-api.ts token   prints a fresh admin token (only its hash is stored)
//   tsx scripts/fuzz-api.ts drop    drops that database (it must be named gdr_fuzz_*)
import pg from "pg";
import { createToken } from "@gdr/core/auth/tokens";
import { createPrisma } from "@gdr/core/db/client";
import { pgConfigFromUrl } from "../packages/core/src/db/pg-config.js";

const url = process.env["DATABASE_URL"];
if (!url) throw new Error("fuzz-api: DATABASE_URL is not set");
const config = pgConfigFromUrl(url);
const name = config.database ?? "";

switch (process.argv[2]) {
  case "token": {
    const prisma = createPrisma(url, { poolSize: 1 });
    try {
      console.log((await createToken(prisma, "fuzz-admin", "admin")).token);
    } finally {
      await prisma.$disconnect();
    }
    break;
  }
  case "drop": {
    // A guard against dropping anything but the database this script made.
    if (!/^gdr_fuzz_[a-z0-9]+$/.test(name)) throw new Error(`fuzz-api: refusing to drop ${name}: not a gdr_fuzz_* database`);
    const client = new pg.Client({ ...config, database: "postgres" });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await client.end();
    }
    break;
  }
  default:
    throw new Error("usage: tsx scripts/fuzz-api.ts token|drop");
}
