import type { Redis } from "ioredis";
import type { EngineLimits } from "./engine/deps.js";
import {
  bucketsFromConfig,
  createIsolationCap,
  createPauseSwitch,
  createResourceLocks,
  createTokenBucket,
  limitsPrefix,
  type PauseSwitch,
} from "./engine/limits/index.js";
import type { WorkerConfig } from "./config.js";

/**
 * The engine's limits over Redis. The per-resource lock is held for a whole job and extended
 * every third of its TTL; if it is lost (a long stall, a network split) its signal aborts, and
 * the engine's AWS calls with it.
 */
export function createEngineLimits(redis: Redis, config: Readonly<WorkerConfig>): EngineLimits & { pause: PauseSwitch } {
  const prefix = limitsPrefix(config.QUEUE_PREFIX);
  const buckets = createTokenBucket(redis, { prefix, buckets: bucketsFromConfig(config) });
  const locks = createResourceLocks(redis, { prefix, ttlMs: config.WORKER_LOCK_TTL_MS });
  const pause = createPauseSwitch(redis, { prefix });
  const cap = createIsolationCap(redis, { prefix, perMinute: config.WORKER_ISOLATIONS_PER_MINUTE });

  return {
    pause,
    throttle: (accountId, family, signal) => buckets.take(accountId, family, signal),
    isPaused: () => pause.isPaused(),
    async acquireResource(key) {
      const lock = await locks.acquire(`resource:${key}`);
      if (!lock) return null;
      const stopKeepAlive = lock.keepAlive();
      return {
        lost: lock.signal,
        async release() {
          stopKeepAlive();
          await lock.release();
        },
      };
    },
    withLock: (name, fn) => locks.withLock(name, () => fn()),
    reserveIsolation: () => cap.tryReserve(),
  };
}
