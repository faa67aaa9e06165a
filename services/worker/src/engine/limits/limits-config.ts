import { z } from "zod";
import { intInRange } from "@gdr/core/config/fields";

/** A whole number in range when set; unset: the playbook's default stands. */
const optionalInt = (min: number, max: number) =>
  z.coerce
    .number()
    .int(`must be a whole number from ${min} to ${max}`)
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .optional();

/**
 * Environment fields for the worker's limits, to spread into the worker's config schema. No key
 * names here: every limit key is derived from QUEUE_PREFIX (see limitsPrefix), so one setting
 * keeps queues and limits of one deployment together (and in one hash slot on Redis Cluster
 * when the prefix carries a {hash tag}).
 */
export const limitsEnvFields = {
  /** Isolations started per minute across all workers; the rest wait (sliding 60 s window). */
  WORKER_ISOLATIONS_PER_MINUTE: intInRange(1, 10_000, 30),
  // The EC2 buckets' defaults are the playbook's that declares the families (Playbook.families);
  // these override them when set (bucket-table.ts).
  /** EC2 mutating calls per second per account (AWS's own bucket: 50, refill 5/s). */
  WORKER_EC2_WRITE_PER_SECOND: optionalInt(1, 100),
  /** EC2 mutating calls allowed in a burst per account. */
  WORKER_EC2_WRITE_BURST: optionalInt(1, 1_000),
  /** EC2 Describe* calls per second per account (AWS: 100 and 20/s; unfiltered 50 and 10/s). */
  WORKER_EC2_READ_PER_SECOND: optionalInt(1, 1_000),
  /** EC2 Describe* calls allowed in a burst per account. */
  WORKER_EC2_READ_BURST: optionalInt(1, 1_000),
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
