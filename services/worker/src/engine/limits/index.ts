// Limits shared by every worker process through Redis: token buckets per account and API family,
// per-resource locks and the isolations-per-minute cap (the pause switch lives in @gdr/core/control/pause).
export { LockLostError, LockTimeoutError } from "./errors.js";
export { createIsolationCap, type IsolationCap } from "./isolation-cap.js";
export { bucketTable, ENGINE_FAMILIES, type BucketOverrides, type FamilySource } from "./bucket-table.js";
export { limitsEnvFields, limitsEnvSchema, limitsPrefix, type LimitsEnv } from "./limits-config.js";
export {
  createResourceLocks,
  type Lock,
  type ResourceLockOptions,
  type ResourceLocks,
  type WithLockOptions,
} from "./resource-lock.js";
export type { LimitsRedis } from "./script.js";
export {
  createTokenBucket,
  type BucketSpec,
  type BucketSpecs,
  type TokenBucket,
  type TokenBucketOptions,
  UnknownFamilyError,
} from "./token-bucket.js";
