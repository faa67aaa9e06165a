import { PrismaClient } from "@prisma/client";
import { GuardedPrismaPg } from "./guarded-adapter.js";
import { pgConfigFromUrl } from "./pg-config.js";

export type { Prisma, PrismaClient } from "@prisma/client";
// The enums of prisma/schema.prisma, as runtime objects and types: every list of statuses or modes
// is derived from these, so a value added to the schema reaches every check that lists them.
export { ApprovalDecision, RemediationMode, RemediationStatus, StepStatus } from "@prisma/client";

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
