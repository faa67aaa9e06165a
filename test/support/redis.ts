import { Redis } from "ioredis";
import { inject } from "vitest";
import "./provided.js";
import { randomSuffix } from "./db-url.js";

export interface TestRedis {
  url: string;
  /** Unique to this test file (gdr-t-<random>); use it as the BullMQ prefix and for any own keys. */
  prefix: string;
  /** A connection for asserting on keys; code under test should open its own from `url`. */
  connection: Redis;
  /** Deletes every key under the prefix, then closes the connection. */
  cleanup(): Promise<void>;
}

/** Isolates a test file on the shared Redis by key prefix (Redis has no cheap per-file database). */
export function createTestRedis(): TestRedis {
  const url = inject("gdrRedisUrl");
  // Fixed-length random part, so that no prefix is the start of another and `${prefix}*` is exact.
  const prefix = `gdr-t-${randomSuffix()}`;
  const connection = new Redis(url);
  let cleaned = false;
  return {
    url,
    prefix,
    connection,
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      await deleteByPrefix(connection, prefix);
      await connection.quit();
    },
  };
}

export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== "0");
  return deleted;
}
