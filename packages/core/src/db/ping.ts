import type { PrismaClient } from "@prisma/client";
import type { Redis } from "ioredis";

export async function pingPostgres(prisma: Pick<PrismaClient, "$queryRaw">): Promise<void> {
  await prisma.$queryRaw`SELECT 1`;
}

export async function pingRedis(redis: Pick<Redis, "ping">): Promise<void> {
  await redis.ping();
}
