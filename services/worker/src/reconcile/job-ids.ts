import { evidenceJobId, jobIdWith } from "@gdr/core/queues/job-ids";
import type { Queue } from "bullmq";

/**
 * Every BullMQ job id that may carry a remediation: the job ingest enqueued (`remediations.job_id`),
 * the jobs enqueued through the outbox (API retries, continuations and releases after approval,
 * expiry continuations), the reconciler's own recoveries, and for each of them the `-evidence`
 * job it hands over to once it has contained (engine/runner.ts). The id of the next recovery is
 * included: a recovery added to BullMQ whose Postgres transaction then failed is still found.
 */
export function knownJobIds(remediationJobId: string, outboxJobIds: readonly string[], recoveries: number): string[] {
  const bases = [remediationJobId, ...outboxJobIds];
  for (let n = 1; n <= recoveries + 1; n++) bases.push(recoveryJobId(remediationJobId, n));
  return [...new Set(bases.flatMap((id) => [id, evidenceJobId(id)]))];
}

/** The id of the n-th recovery: new each time, since BullMQ keeps the failed job under its id. */
export function recoveryJobId(remediationJobId: string, n: number): string {
  return jobIdWith(remediationJobId, { kind: "recovery", n });
}

/** States in which a job will still run (or runs now). */
const LIVE = new Set(["waiting", "active", "delayed", "prioritized", "waiting-children", "paused"]);

export interface JobSighting {
  id: string;
  state: string;
  /** BullMQ's reason, for a failed job. */
  failedReason?: string;
}

/** What BullMQ holds under these ids (ids it does not know are left out). */
export async function sightJobs(queue: Queue, ids: readonly string[]): Promise<JobSighting[]> {
  const found: JobSighting[] = [];
  for (const id of ids) {
    const state = await queue.getJobState(id);
    if (state === "unknown") continue;
    const sighting: JobSighting = { id, state };
    if (state === "failed") {
      const job = await queue.getJob(id);
      if (job?.failedReason) sighting.failedReason = job.failedReason.slice(0, 300);
    }
    found.push(sighting);
  }
  return found;
}

export function isLive(sighting: JobSighting): boolean {
  return LIVE.has(sighting.state);
}
