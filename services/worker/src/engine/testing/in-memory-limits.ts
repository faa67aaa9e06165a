// For the engine's unit tests only: EngineLimits in one process. Token buckets are counted (a
// family without a bucket is refused, as by the Redis buckets), the resource lock is held by one
// job at a time, named locks queue their holders, the isolation cap allows `perMinute`
// reservations (the test's minute never ends), and the pause switch is a flag.
import type { EngineLimits } from "../deps.js";
import { UnknownFamilyError, type BucketSpecs } from "../limits/token-bucket.js";

export type InMemoryLimits = EngineLimits & {
  /** Tokens taken, as `account/family`, in order. */
  taken: string[];
  /** Isolations reserved so far. */
  isolations: number;
  paused: boolean;
  /** Resource locks held now. */
  held: ReadonlySet<string>;
};

export function createInMemoryLimits(options: { buckets: BucketSpecs; isolationsPerMinute?: number }): InMemoryLimits {
  const held = new Set<string>();
  const named = new Map<string, Promise<void>>();
  const limits: InMemoryLimits = {
    taken: [],
    isolations: 0,
    paused: false,
    held,
    throttle(accountId, family, signal) {
      signal.throwIfAborted();
      if (!options.buckets[family]) return Promise.reject(new UnknownFamilyError(family, Object.keys(options.buckets)));
      limits.taken.push(`${accountId}/${family}`);
      return Promise.resolve();
    },
    isPaused: () => Promise.resolve(limits.paused ? { paused: true, reason: "test" } : { paused: false }),
    acquireResource(key) {
      if (held.has(key)) return Promise.resolve(null);
      held.add(key);
      const lost = new AbortController();
      return Promise.resolve({
        lost: lost.signal,
        release() {
          held.delete(key);
          return Promise.resolve();
        },
      });
    },
    async withLock(name, fn) {
      const before = named.get(name) ?? Promise.resolve();
      let done = (): void => undefined;
      const mine = new Promise<void>((resolve) => {
        done = resolve;
      });
      named.set(name, mine);
      await before;
      try {
        return await fn();
      } finally {
        if (named.get(name) === mine) named.delete(name);
        done();
      }
    },
    reserveIsolation() {
      const cap = options.isolationsPerMinute ?? Number.POSITIVE_INFINITY;
      if (limits.isolations >= cap) return Promise.resolve({ ok: false, retryInMs: 60_000 });
      limits.isolations += 1;
      return Promise.resolve({ ok: true, retryInMs: 0 });
    },
  };
  return limits;
}
