// BullMQ's side, read with BullMQ itself under a queue prefix: one queue per playbook.
import { PLAYBOOKS, type PlaybookName } from "@gdr/core/queues/playbooks";
import type { RemediationJob } from "@gdr/core/queues/catalog";
import { Queue, type Job } from "bullmq";
import type { Redis } from "ioredis";

export type PlaybookQueues = ReadonlyMap<PlaybookName, Queue<RemediationJob>>;

export const ALL_JOB_STATES = ["active", "completed", "delayed", "failed", "paused", "prioritized", "waiting", "waiting-children"] as const;

/** A reading handle on every playbook's queue under `prefix`; close them with closePlaybookQueues. */
export function playbookQueues(connection: Redis, prefix: string): PlaybookQueues {
  return new Map(PLAYBOOKS.map((name) => [name, new Queue<RemediationJob>(name, { connection, prefix })] as const));
}

export async function closePlaybookQueues(queues: PlaybookQueues): Promise<void> {
  await Promise.allSettled([...queues.values()].map((q) => q.close()));
}

export function queueOf(queues: PlaybookQueues, playbook: string): Queue<RemediationJob> {
  const queue = queues.get(playbook as PlaybookName);
  if (!queue) throw new Error(`no BullMQ queue for playbook ${playbook}`);
  return queue;
}

/** Every job of these queues, whatever its state. */
export async function jobsIn(queues: Iterable<Queue<RemediationJob>>): Promise<Job<RemediationJob>[]> {
  const perQueue = await Promise.all([...queues].map((q) => q.getJobs([...ALL_JOB_STATES])));
  return perQueue.flat();
}

/** The number of jobs BullMQ counts in every state of these queues. */
export async function jobCount(queues: Iterable<Queue<RemediationJob>>): Promise<number> {
  const counts = await Promise.all([...queues].map((q) => q.getJobCounts()));
  return counts.reduce((sum, c) => sum + Object.values(c).reduce((a, b) => a + b, 0), 0);
}
