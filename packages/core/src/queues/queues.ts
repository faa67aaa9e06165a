import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { QUEUE_CATALOG } from "./catalog.js";
import { PLAYBOOKS, type PlaybookName } from "./playbooks.js";

export type RemediationQueues = ReadonlyMap<PlaybookName, Queue>;

/** One producer-side Queue per catalog entry, sharing a connection. */
export function createQueues(connection: Redis, prefix: string): RemediationQueues {
  const queues = new Map<PlaybookName, Queue>();
  for (const name of PLAYBOOKS) {
    queues.set(name, new Queue(QUEUE_CATALOG[name].name, { connection, prefix }));
  }
  return queues;
}

export async function closeQueues(queues: RemediationQueues): Promise<void> {
  await Promise.all([...queues.values()].map((q) => q.close()));
}

export function queueFor(queues: RemediationQueues, name: PlaybookName): Queue {
  const queue = queues.get(name);
  // A missing queue is a programming error; never let an enqueue silently do nothing.
  if (!queue) throw new Error(`no queue for playbook ${name}`);
  return queue;
}
