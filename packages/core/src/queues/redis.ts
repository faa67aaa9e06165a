import { Redis, type RedisOptions } from "ioredis";

/**
 * Producer connections (ingest, API) fail fast while Redis is away, so a batch errors out and
 * backs off instead of queueing commands in memory. Worker connections must wait forever
 * (BullMQ requires maxRetriesPerRequest: null for blocking commands).
 */
export function createRedis(url: string, role: "producer" | "worker", extra: RedisOptions = {}): Redis {
  const base: RedisOptions =
    role === "producer"
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5_000 }
      : { maxRetriesPerRequest: null, connectTimeout: 5_000 };
  return new Redis(url, { ...base, lazyConnect: false, ...extra });
}
