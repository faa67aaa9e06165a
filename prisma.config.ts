// Prisma CLI configuration. The WebAssembly schema engine and the pg driver adapter replace the
// native engines, which Prisma would otherwise download from a host some networks cannot reach.
import { PrismaPg } from "@prisma/adapter-pg";
import { defineConfig } from "prisma/config";
import { pgConfigFromUrl } from "./packages/core/src/db/pg-config.js";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  // The adapter gets a config object, not a connection string: Prisma derives shadow databases by
  // overriding `database`, which a connection string would silently win over.
  adapter: () => {
    const url = process.env["DATABASE_URL"];
    if (!url) throw new Error("DATABASE_URL must be set for every Prisma command");
    return Promise.resolve(new PrismaPg(pgConfigFromUrl(url)));
  },
});
