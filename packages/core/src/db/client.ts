import { PrismaClient } from "@prisma/client";
import { GuardedPrismaPg } from "./guarded-adapter.js";
import { pgConfigFromUrl } from "./pg-config.js";

export type { Prisma, PrismaClient } from "@prisma/client";

/** A Prisma client over node-postgres (no native engine; see docs/prisma.md). */
export function createPrisma(databaseUrl: string, options: { poolSize?: number } = {}): PrismaClient {
  const adapter = new GuardedPrismaPg({
    ...pgConfigFromUrl(databaseUrl),
    max: options.poolSize ?? 10,
    // Fail fast when Postgres is unreachable so callers back off instead of hanging.
    connectionTimeoutMillis: 5_000,
  });
  return new PrismaClient({ adapter });
}
