import { z } from "zod";
import { REGION } from "../findings/patterns.js";

/** Reusable environment fields; each service composes the ones it needs. */

const url = (protocols: readonly string[], example: string) =>
  z
    .string()
    .refine((value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}, e.g. ${example}`);

export const intInRange = (min: number, max: number, fallback: number) =>
  z.coerce
    .number()
    .int(`must be a whole number from ${min} to ${max}`)
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(fallback);

export const commonFields = {
  DATABASE_URL: url(["postgres:", "postgresql:"], "postgresql://user:password@host:5432/guardduty_responder"),
  REDIS_URL: url(["redis:", "rediss:"], "redis://127.0.0.1:6379"),
  /** BullMQ key prefix; wrap it in {…} on Redis Cluster so a queue's keys share a hash slot. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9{}_.-]{1,64}$/, "must be 1-64 characters of letters, digits, {}, _, . or -")
    .default("gdr"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  AWS_REGION: z.string().regex(REGION.regex, `must be ${REGION.label}`),
  /** For emulators (moto, LocalStack) only; unset in production so the SDK uses AWS's endpoints. */
  AWS_ENDPOINT_URL: url(["http:", "https:"], "http://127.0.0.1:5000").optional(),
  POLICY_FILE: z.string().min(1).default("policy/default.yaml"),
  SHUTDOWN_TIMEOUT_MS: intInRange(1_000, 600_000, 30_000),
};
