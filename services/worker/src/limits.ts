import type { Redis } from "ioredis";
import { createPauseSwitch, type PauseStore, type PauseSwitch } from "@gdr/core/control/pause";
import type { EngineLimits } from "./engine/deps.js";
import { createIsolationCap, createResourceLocks, createTokenBucket, limitsPrefix, type BucketSpecs } from "./engine/limits/index.js";
import type { WorkerConfig } from "./config.js";

/**
 * The engine's limits over Redis, with the token buckets of the families the worker's playbooks
 * declare (bucketTable). The per-resource lock is held for a whole job and extended
 * every third of its TTL; if it is lost (a long stall, a network split) its signal aborts, and
 * the engine's AWS calls with it.
 */
export function createEngineLimits(
  redis: Redis,
  config: Readonly<WorkerConfig>,
  prisma: PauseStore,
  bucketSpecs: BucketSpecs,
): EngineLimits & { pause: PauseSwitch } {
  const prefix = limitsPrefix(config.QUEUE_PREFIX);
  const buckets = createTokenBucket(redis, { prefix, buckets: bucketSpecs });
  const locks = createResourceLocks(redis, { prefix, ttlMs: config.WORKER_LOCK_TTL_MS });
  // Postgres is the switch's record, Redis its fast copy: a Redis that lost its data reads the record.
  const pause = createPauseSwitch(redis, { queuePrefix: config.QUEUE_PREFIX, prisma, via: "worker" });
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
