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
    const queue = new Queue(name, { connection, prefix });
    try {
      if ((await queue.getWorkersCount()) > 0) consumed.add(name);
    } finally {
      await queue.close();
    }
  }
  return consumed;
}
