import type { PlaybookName } from "@gdr/core/queues/playbooks";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";

/**
 * The playbooks among `names` that a worker is consuming right now: a playbook the worker does not
 * have gets no BullMQ Worker (services/worker/src/playbooks/registry.ts), and its remediations stay
 * queued. Asked of Redis, where each BullMQ Worker names its connection after its queue, so the
 * demo waits only for what can finish and reports the rest as queued.
 */
export async function playbooksConsumed(connection: Redis, prefix: string, names: readonly PlaybookName[]): Promise<Set<PlaybookName>> {
  const consumed = new Set<PlaybookName>();
  for (const name of names) {
    if ((await withQueue(connection, prefix, name, (q) => q.getWorkersCount())) > 0) consumed.add(name);
  }
  return consumed;
}

/**
 * Whether these playbooks' queues hold no job to run or running. A remediation can already wait for
 * an approval while its evidence job (tags, snapshots) still runs at a lower priority: the demo
 * reads moto once that work is done too, so what it prints does not depend on timing.
 */
export async function queuesIdle(connection: Redis, prefix: string, names: readonly string[]): Promise<boolean> {
  for (const name of names) {
    const counts = await withQueue(connection, prefix, name, (q) => q.getJobCounts("active", "wait", "prioritized", "delayed", "paused"));
    if (Object.values(counts).some((n) => n > 0)) return false;
  }
  return true;
}

async function withQueue<T>(connection: Redis, prefix: string, name: string, use: (queue: Queue) => Promise<T>): Promise<T> {
  const queue = new Queue(name, { connection, prefix });
  try {
    return await use(queue);
  } finally {
    await queue.close();
  }
}
