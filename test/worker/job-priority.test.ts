// The queue order the catalog's job options give, on a real Redis with a real BullMQ Worker:
// containment jobs (no priority) are taken before evidence jobs (EVIDENCE_PRIORITY) whatever
// order they were added in, and evidence jobs keep their own arrival order. This is what keeps a
// burst of findings from queueing isolations behind the snapshots of earlier ones.
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { jobOptions, QUEUE_CATALOG, type RemediationJob } from "@gdr/core/queues/catalog";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRedis, type TestRedis } from "../support/index.js";

let redis: TestRedis;

beforeAll(() => {
  redis = createTestRedis();
});

afterAll(async () => {
  await redis.cleanup();
});

const job = (n: number, action: RemediationJob["action"]): RemediationJob => ({
  remediationId: `00000000-0000-4000-8000-${n.toString().padStart(12, "0")}`,
  findingId: `f${n}`,
  playbook: "instance",
  mode: "auto",
  accountId: "123456789012",
  region: "us-east-1",
  resourceKey: `i-${n.toString(16).padStart(17, "0")}`,
  action,
});

describe("job priority", () => {
  it("takes every waiting containment job before any evidence job, each kind in arrival order", async () => {
    const queue = new Queue("instance", { connection: redis.connection, prefix: redis.prefix });
    const arrivals: [string, RemediationJob["action"]][] = [
      ["e1", "evidence"],
      ["e2", "evidence"],
      ["c1", "contain"],
      ["e3", "evidence"],
      ["c2", "continue"],
      ["c3", "contain"],
    ];
    for (const [i, [id, action]] of arrivals.entries()) await queue.add("instance", job(i, action), jobOptions(QUEUE_CATALOG.instance, id, action));

    const order: string[] = [];
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const worker = new Worker(
      "instance",
      (j) => {
        order.push(j.id ?? "?");
        return Promise.resolve();
      },
      { connection, prefix: redis.prefix, concurrency: 1 },
    );
    const allDone = new Promise<void>((resolve) => {
      worker.on("completed", () => {
        if (order.length === arrivals.length) resolve();
      });
    });
    try {
      await allDone;
      expect(order).toEqual(["c1", "c2", "c3", "e1", "e2", "e3"]);
    } finally {
      await worker.close();
      connection.disconnect();
      await queue.close();
    }
  });
});
