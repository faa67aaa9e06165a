import { z } from "zod";
import { commonFields, intInRange } from "@gdr/core/config/fields";
import { parseConfig } from "@gdr/core/config/parse";
import { notifyFields } from "@gdr/core/notify/fields";
import { approvalSweepEnvFields } from "@gdr/core/approvals/sweeper";
import { limitsEnvFields } from "./engine/limits/index.js";

const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0"], { message: "must be true or false" })
    .default(fallback ? "true" : "false")
    .transform((v) => v === "true" || v === "1");

export const workerConfigSchema = z.object({
  ...commonFields,
  ...limitsEnvFields,
  ...approvalSweepEnvFields,
  /**
   * The role assumed in accounts other than the worker's own (same name in every member
   * account, as with a StackSet). Findings of the worker's own account need no role.
   */
  WORKER_ROLE_NAME: z
    .string()
    .regex(/^[\w+=,.@-]{1,64}$/, "must be an IAM role name")
    .default("GuardDutyResponder"),
  WORKER_ROLE_EXTERNAL_ID: z.string().min(2).max(1224).optional(),
  /** The worker's own account; looked up with STS GetCallerIdentity when unset. */
  WORKER_ACCOUNT_ID: z.string().regex(/^\d{12}$/, "must be a 12-digit account id").optional(),
  /** Adds the terminate step (always behind approval) to the Instance playbook. */
  WORKER_INSTANCE_TERMINATE: bool(false),
  /**
   * Confirm every finding with GuardDuty (GetFindings in the finding's account and region) before
   * the first change: anyone who can send to the queue could otherwise have resources isolated.
   * Off only against an emulator (AWS_ENDPOINT_URL set): moto has no GetFindings.
   */
  WORKER_CONFIRM_FINDINGS: bool(true),
  /** Overrides every queue's concurrency from the catalog. */
  WORKER_CONCURRENCY: intInRange(1, 256, 5).optional(),
  /** How long a paused or busy remediation waits before it is tried again. */
  WORKER_POSTPONE_MS: intInRange(100, 600_000, 5_000),
  /**
   * BullMQ's job lock: a job whose worker died (no lock renewal) is found stalled and handed to
   * another worker within about this long, and resumes at its step cursor.
   */
  WORKER_JOB_LOCK_MS: intInRange(1_000, 600_000, 30_000),
  /** How often every worker reconciles Postgres (the record) with BullMQ (transport): lost jobs, stuck remediations. */
  WORKER_RECONCILE_MS: intInRange(1_000, 3_600_000, 30_000),
  /**
   * The reconciler leaves a remediation alone while it moved within this long (longer than the
   * job lock, so a job between a worker's death and BullMQ's stalled check is not recovered twice).
   */
  WORKER_RECONCILE_GRACE_MS: intInRange(1_000, 86_400_000, 120_000),
  /** Re-enqueues of one remediation by the reconciler before it is failed and people are told. */
  WORKER_RECOVERY_LIMIT: intInRange(1, 100, 5),
  /** A queued, running or approved remediation that has not moved for this long is reported stuck. */
  WORKER_STUCK_AFTER_MS: intInRange(1_000, 86_400_000, 900_000),
  /** The longest a job waits before trying again while Postgres or Redis is away (the backoff starts at WORKER_POSTPONE_MS). */
  WORKER_OUTAGE_BACKOFF_MAX_MS: intInRange(100, 600_000, 60_000),
  /**
   * How often every worker looks for an isolation group's temporary egress rule that a dead
   * worker left open (recorded opened, never closed, older than WORKER_LOCK_TTL_MS) and revokes it.
   */
  WORKER_EGRESS_SWEEP_MS: intInRange(1_000, 3_600_000, 60_000),
  ...notifyFields,
  WORKER_HTTP_HOST: z.string().min(1).default("127.0.0.1"),
  WORKER_HTTP_PORT: intInRange(0, 65_535, 9102),
}).refine((c) => c.WORKER_RECONCILE_GRACE_MS > c.WORKER_JOB_LOCK_MS, {
  message: "WORKER_RECONCILE_GRACE_MS must be longer than WORKER_JOB_LOCK_MS (a job whose worker died is handed back within the lock; the reconciler must not race that)",
  path: ["WORKER_RECONCILE_GRACE_MS"],
}).refine((c) => c.WORKER_CONFIRM_FINDINGS || c.AWS_ENDPOINT_URL !== undefined, {
  message:
    "may be false only against an emulator (AWS_ENDPOINT_URL set, e.g. moto, which has no GetFindings); against AWS every finding is confirmed with GuardDuty before anything changes",
  path: ["WORKER_CONFIRM_FINDINGS"],
});

export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): Readonly<WorkerConfig> {
  return parseConfig(workerConfigSchema, env);
}
