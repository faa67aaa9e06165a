import { z } from "zod";
import { intInRange } from "@gdr/core/config/fields";
import { DEFAULT_BUCKETS, type BucketSpecs } from "./token-bucket.js";

/**
 * Environment fields for the worker's limits, to spread into the worker's config schema. No key
 * names here: every limit key is derived from QUEUE_PREFIX (see limitsPrefix), so one setting
 * keeps queues and limits of one deployment together (and in one hash slot on Redis Cluster
 * when the prefix carries a {hash tag}).
 */
export const limitsEnvFields = {
  /** Isolations started per minute across all workers; the rest wait (sliding 60 s window). */
  WORKER_ISOLATIONS_PER_MINUTE: intInRange(1, 10_000, 30),
  /** EC2 mutating calls per second per account (AWS's own bucket: 50, refill 5/s). */
  WORKER_EC2_WRITE_PER_SECOND: intInRange(1, 100, DEFAULT_BUCKETS["ec2-write"].refillPerSecond),
  /** EC2 mutating calls allowed in a burst per account. */
  WORKER_EC2_WRITE_BURST: intInRange(1, 1_000, DEFAULT_BUCKETS["ec2-write"].capacity),
  /** EC2 Describe* calls per second per account (AWS: 100 and 20/s; unfiltered 50 and 10/s). */
  WORKER_EC2_READ_PER_SECOND: intInRange(1, 1_000, DEFAULT_BUCKETS["ec2-read"].refillPerSecond),
  /** EC2 Describe* calls allowed in a burst per account. */
  WORKER_EC2_READ_BURST: intInRange(1, 1_000, DEFAULT_BUCKETS["ec2-read"].capacity),
  /** Resource lock TTL: how long a crashed worker's lock blocks others; extended every ttl/3. */
  WORKER_LOCK_TTL_MS: intInRange(1_000, 600_000, 30_000),
};

/** The fields alone, for tests and for services that need nothing else. */
export const limitsEnvSchema = z.object(limitsEnvFields);
export type LimitsEnv = z.infer<typeof limitsEnvSchema>;

/** Every limits key lives under this: `<QUEUE_PREFIX>:limits`. */
export function limitsPrefix(queuePrefix: string): string {
  return `${queuePrefix}:limits`;
}

/** The token buckets: EC2 ones from the environment, the other families at their defaults. */
export function bucketsFromConfig(
  config: Pick<
    LimitsEnv,
    "WORKER_EC2_WRITE_PER_SECOND" | "WORKER_EC2_WRITE_BURST" | "WORKER_EC2_READ_PER_SECOND" | "WORKER_EC2_READ_BURST"
  >,
): BucketSpecs {
  return Object.freeze({
    ...DEFAULT_BUCKETS,
    "ec2-write": Object.freeze({ capacity: config.WORKER_EC2_WRITE_BURST, refillPerSecond: config.WORKER_EC2_WRITE_PER_SECOND }),
    "ec2-read": Object.freeze({ capacity: config.WORKER_EC2_READ_BURST, refillPerSecond: config.WORKER_EC2_READ_PER_SECOND }),
  });
}
