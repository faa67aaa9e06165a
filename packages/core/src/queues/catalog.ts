import { z } from "zod";
import { RemediationMode } from "../db/client.js";
import { ACCOUNT_ID, FINDING_ID, REGION } from "../findings/patterns.js";
import { PLAYBOOKS, type PlaybookName } from "./playbooks.js";

/**
 * The job catalog: one BullMQ queue per playbook, each with the payload schema the worker
 * re-validates on pickup and the retry and limiter settings it runs with. Adding a playbook means
 * adding an entry here, not a branch in a processor.
 */

export const remediationJobSchema = z.object({
  remediationId: z.uuid(),
  // The identifier patterns are findings/patterns.ts's: a job carries what the parser accepted.
  findingId: z.string().regex(FINDING_ID.regex, { error: `must be ${FINDING_ID.label}` }),
  playbook: z.enum(PLAYBOOKS),
  mode: z.enum(RemediationMode),
  accountId: z.string().regex(ACCOUNT_ID.regex, { error: `must be ${ACCOUNT_ID.label}` }),
  region: z.string().regex(REGION.regex, { error: `must be ${REGION.label}` }),
  resourceKey: z.string().min(1).max(512),
  /**
   * Which action the job carries out: the playbook itself (`contain`), its continuation after an
   * approval (`continue`), the steps after containment handed over by the job that contained
   * (`evidence`), or undoing containment (`release`).
   */
  action: z.enum(["contain", "continue", "evidence", "release"]).default("contain"),
});
export type RemediationJob = z.infer<typeof remediationJobSchema>;

export interface QueueDefinition {
  name: PlaybookName;
  payload: typeof remediationJobSchema;
  attempts: number;
  backoffMs: number;
  concurrency: number;
  /** BullMQ limiter: at most `max` jobs per `duration` ms on this queue, across all workers. */
  limiter: { max: number; duration: number };
}

function entry(name: PlaybookName, overrides: Partial<Omit<QueueDefinition, "name" | "payload">> = {}): QueueDefinition {
  return {
    name,
    payload: remediationJobSchema,
    attempts: 8,
    backoffMs: 1_000,
    concurrency: 5,
    limiter: { max: 20, duration: 1_000 },
    ...overrides,
  };
}

export const QUEUE_CATALOG: Readonly<Record<PlaybookName, QueueDefinition>> = Object.freeze({
  instance: entry("instance"),
  "ecs-task": entry("ecs-task"),
  "container-image": entry("container-image", { concurrency: 2 }),
  container: entry("container"),
  "eks-pod": entry("eks-pod"),
  "access-key": entry("access-key", { concurrency: 2 }),
});

// Job ids: job-ids.ts holds their one grammar; the base id is re-exported here for its users.
export { jobIdFor } from "./job-ids.js";

/**
 * BullMQ priority of `evidence` jobs. Jobs without a priority (containment, continuations,
 * releases) are taken before any prioritized job, so under a burst every resource is isolated
 * before the slower evidence work (snapshots, scans) of any of them uses the workers and the
 * account's EC2 write budget.
 */
export const EVIDENCE_PRIORITY = 10;

/** Job options common to every remediation job: exponential backoff with jitter, bounded history. */
export function jobOptions(definition: QueueDefinition, jobId: string, action: RemediationJob["action"] = "contain") {
  return {
    jobId,
    ...(action === "evidence" ? { priority: EVIDENCE_PRIORITY } : {}),
    attempts: definition.attempts,
    backoff: { type: "exponential" as const, delay: definition.backoffMs, jitter: 0.5 },
    // Completed jobs stay a week so that a late re-add of the same id is still deduplicated by
    // BullMQ; Postgres status remains the real guard after that.
    removeOnComplete: { age: 7 * 24 * 3600, count: 100_000 },
    removeOnFail: { age: 30 * 24 * 3600 },
  };
}
