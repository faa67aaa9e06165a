import { setTimeout as delay } from "node:timers/promises";
import type { ApiFamily } from "../step.js";
import { defineScript, integers, type LimitsRedis } from "./script.js";

export interface BucketSpec {
  /** Tokens a full bucket holds: the burst allowed after a quiet period. */
  capacity: number;
  /** Tokens added per second, up to capacity: the sustained rate. */
  refillPerSecond: number;
}

/**
 * Buckets by API family. The defaults are the playbooks' (Playbook.families, e.g. the Instance
 * playbook's families.ts, with their sources) and the engine's (bucket-table.ts).
 */
export type BucketSpecs = Readonly<Record<ApiFamily, BucketSpec>>;

/** A throttle on an API family nobody declared: a bug, never retried. */
export class UnknownFamilyError extends Error {
  override readonly name = "UnknownFamilyError";
  constructor(family: string, declared: readonly string[]) {
    super(`no rate bucket for API family "${family}": no playbook declares it (declared: ${declared.join(", ")})`);
  }
}

export interface TokenBucketOptions {
  /** Key prefix; the buckets live at `<prefix>:bucket:<family>:<accountId>`. */
  prefix: string;
  buckets: BucketSpecs;
  /**
   * Milliseconds since the epoch, for tests that step time by hand. Leave unset in production:
   * the script then reads Redis's own clock (TIME), so worker hosts with skewed clocks still
   * share one consistent bucket.
   */
  now?: () => number;
}

export interface TokenBucket {
  /**
   * Takes one token of the account's bucket for this API family, waiting as long as the bucket
   * says the next token needs. Rejects with the signal's abort error when the signal aborts.
   */
  take(accountId: string, family: ApiFamily, signal?: AbortSignal): Promise<void>;
  /** Takes a token if one is there; otherwise says how long until the next one. */
  tryTake(accountId: string, family: ApiFamily): Promise<{ ok: boolean; waitMs: number }>;
}

// KEYS[1] the bucket hash {tokens, ts}. ARGV: capacity, refill per second, now in ms (or -1 to
// read Redis's clock). Replies {1, 0} when a token was taken, else {0, ms until one is there}.
// A missing key is a full bucket, so the key may expire once a full refill's time has passed.
const TAKE = defineScript(`
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
if now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate / 1000)
  ts = now
end
local ok = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
else
  wait = math.max(1, math.ceil((1 - tokens) * 1000 / rate))
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', ts)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate) + 1000)
return {ok, wait}
`);

export function createTokenBucket(redis: LimitsRedis, options: TokenBucketOptions): TokenBucket {
  const { prefix, buckets, now } = options;
  for (const [family, spec] of Object.entries(buckets)) {
    if (!(Number.isFinite(spec.capacity) && spec.capacity >= 1)) {
      throw new Error(`bucket ${family}: capacity must be at least 1, got ${spec.capacity}`);
    }
    if (!(Number.isFinite(spec.refillPerSecond) && spec.refillPerSecond > 0)) {
      throw new Error(`bucket ${family}: refillPerSecond must be above 0, got ${spec.refillPerSecond}`);
    }
  }

  async function tryTake(accountId: string, family: ApiFamily): Promise<{ ok: boolean; waitMs: number }> {
    if (accountId === "") throw new Error("accountId must not be empty");
    const spec = buckets[family];
    // Every family a step calls is declared by its playbook (Playbook.families) or the engine:
    // one that is not is a bug in the step, not a reason to call AWS unpaced.
    if (!spec) throw new UnknownFamilyError(family, Object.keys(buckets));
    const reply = await TAKE.run(
      redis,
      [`${prefix}:bucket:${family}:${accountId}`],
      [spec.capacity, spec.refillPerSecond, now ? now() : -1],
    );
    const [ok, waitMs] = integers(reply, 2) as [number, number];
    return { ok: ok === 1, waitMs };
  }

  async function take(accountId: string, family: ApiFamily, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const { ok, waitMs } = await tryTake(accountId, family);
      if (ok) return;
      // Sleep exactly until the bucket expects the next token. Waiters in other processes may
      // wake for the same token; a little jitter spreads them, and the losers get a fresh wait.
      // No strict fairness between waiters: each remediation only needs a handful of tokens.
      const jitter = Math.floor(Math.random() * Math.min(50, waitMs / 4 + 1));
      await delay(waitMs + jitter, undefined, signal ? { signal } : {});
    }
  }

  return { take, tryTake };
}
