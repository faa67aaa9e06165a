import { randomUUID } from "node:crypto";
import { defineScript, integer, integers, type LimitsRedis } from "./script.js";

export interface IsolationCap {
  /**
   * Reserves one isolation in the last minute's budget, shared by every worker process. A
   * reservation is not given back if the isolation then fails or turns out to be unneeded: the
   * cap errs towards doing less.
   */
  tryReserve(): Promise<{ ok: boolean; retryInMs: number }>;
  /** Isolations reserved in the last minute. */
  current(): Promise<number>;
}

const WINDOW_MS = 60_000;

// A sliding-window log: one sorted-set member per reservation, scored with Redis's clock (TIME,
// so hosts' clocks do not matter). A fixed window would let 2 × perMinute isolations through
// around a minute boundary (a full budget at 0:59 and another at 1:00), and a cap that exists to
// stop a runaway from isolating a fleet must hold over any 60 s. The log's cost is bounded: at
// most perMinute members, pruned on every call.
//
// KEYS[1] the sorted set. ARGV: limit, window ms, a unique member. Replies {1, 0} when reserved,
// else {0, ms until the oldest reservation leaves the window}.
const RESERVE = defineScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 0}
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
return {0, math.max(1, oldest + window - now)}
`);

// Read-only: counts without pruning, so it may run anywhere a read may.
const COUNT = defineScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. (now - tonumber(ARGV[1])), '+inf')
`);

export function createIsolationCap(
  redis: LimitsRedis,
  { prefix, perMinute }: { prefix: string; perMinute: number },
): IsolationCap {
  if (!(Number.isInteger(perMinute) && perMinute >= 1)) {
    throw new Error(`perMinute must be a whole number of at least 1, got ${perMinute}`);
  }
  const key = `${prefix}:isolations`;

  return {
    async tryReserve() {
      const reply = await RESERVE.run(redis, [key], [perMinute, WINDOW_MS, randomUUID()]);
      const [ok, retryInMs] = integers(reply, 2) as [number, number];
      return { ok: ok === 1, retryInMs };
    },
    async current() {
      return integer(await COUNT.run(redis, [key], [WINDOW_MS]));
    },
  };
}
