import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/** The Redis commands the limits need: scripts plus a few plain ones. */
export type LimitsRedis = Pick<Redis, "evalsha" | "eval" | "set" | "hgetall" | "hset" | "hdel" | "multi">;

/** A Lua script run atomically by Redis: EVALSHA first, EVAL when Redis does not know it yet. */
export interface Script {
  run(redis: LimitsRedis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
}

export function defineScript(lua: string): Script {
  const sha = createHash("sha1").update(lua).digest("hex");
  return {
    async run(redis, keys, args) {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        // The script cache is empty after a restart, a failover or SCRIPT FLUSH. EVAL loads it
        // again, so later calls go back to sending only the hash. Redis reports this condition
        // only through the error reply's text, which starts with the code NOSCRIPT.
        if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
        return await redis.eval(lua, keys.length, ...keys, ...args);
      }
    },
  };
}

/** Reads a script's reply of integers, e.g. `{ok, waitMs}`; anything else is a bug in the script. */
export function integers(reply: unknown, length: number): number[] {
  if (Array.isArray(reply) && reply.length === length && reply.every((n): n is number => typeof n === "number")) {
    return reply;
  }
  throw new Error(`unexpected script reply: ${JSON.stringify(reply)}`);
}

/** Reads a script's single-integer reply. */
export function integer(reply: unknown): number {
  if (typeof reply !== "number") throw new Error(`unexpected script reply: ${JSON.stringify(reply)}`);
  return reply;
}
