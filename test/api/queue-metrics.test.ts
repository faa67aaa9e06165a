// GET /metrics on the API: queue and approval gauges computed at scrape time from the real BullMQ
// queues and Postgres; and every metric the Grafana dashboard plots exists in the code.
import { readFileSync } from "node:fs";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { createLogger } from "@gdr/core/log";
import { Registry } from "@gdr/core/metrics";
import { queueFor, type RemediationQueues } from "@gdr/core/queues/queues";
import { PLAYBOOKS } from "@gdr/core/queues/playbooks";
import { createIngestMetrics } from "@gdr/ingest/metrics";
import { createEngineMetrics } from "@gdr/worker/metrics";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerQueueMetrics } from "../../services/api/src/plugins/queue-metrics.js";
import type { TestDatabase, TestRedis } from "../support/index.js";
import { createApiWorld, type ApiWorld } from "./world.js";

let db: TestDatabase;
let redis: TestRedis;
let queues: RemediationQueues;
let app: FastifyInstance;
let world: ApiWorld;
let scrape: () => Promise<{ statusCode: number; body: string; headers: Record<string, unknown> }>;

beforeAll(async () => {
  world = await createApiWorld({ name: "api-metrics-test" });
  ({ db, redis, queues, app } = world);
  // Prometheus scrapes with a viewer token (every route but /healthz needs one).
  scrape = () => app.inject({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${world.tokens.viewer}` } });
});

afterAll(async () => {
  await world.close();
});

/** The value of one series in Prometheus' text format, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function failOneJob(): Promise<void> {
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const worker = new Worker(
    "access-key",
    () => {
      throw new Error("boom");
    },
    { connection, prefix: redis.prefix, autorun: false },
  );
  const failed = new Promise<void>((resolve) => {
    worker.once("failed", () => {
      resolve();
    });
  });
  await queueFor(queues, "access-key").add("access-key", { n: 1 }, { attempts: 1 });
  void worker.run();
  await failed;
  await worker.close();
  connection.disconnect();
}

async function seedAwaitingApproval(findingId: string, waitingSinceSeconds: number): Promise<void> {
  await db.pool.query(
    `INSERT INTO findings (id, arn, account_id, region, partition, type, severity, title, resource_type, resource_key, count, archived, sample, gd_created_at, gd_updated_at, raw)
     VALUES ($1, 'arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/' || $1, '123456789012', 'us-east-1', 'aws', 'Execution:Runtime/NewBinaryExecuted', 8, 't', 'Instance', 'i-0123456789abcdef0', 1, false, false, now(), now(), '{}')`,
    [findingId],
  );
  const r = await db.pool.query<{ id: string }>(
    `INSERT INTO remediations (id, finding_id, playbook, resource_key, account_id, region, mode, status, rule_name, job_id, plan_hash, updated_at)
     VALUES (gen_random_uuid(), $1, 'instance', 'i-0123456789abcdef0', '123456789012', 'us-east-1', 'approval', 'awaiting_approval', 'r', 'j-' || $1, $2, now())
     RETURNING id::text AS id`,
    [findingId, "a".repeat(64)],
  );
  await db.pool.query(
    `INSERT INTO audit_events (actor, action, remediation_id, at) VALUES ('worker', 'remediation.awaiting_approval', $1::uuid, now() - make_interval(secs => $2))`,
    [r.rows[0]?.id, waitingSinceSeconds],
  );
}

describe("GET /metrics", () => {
  it("needs a viewer token, and shows every queue at zero and no approval backlog", async () => {
    expect((await app.inject({ method: "GET", url: "/metrics" })).statusCode).toBe(401);
    const res = await scrape();
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    for (const q of PLAYBOOKS) {
      expect(sample(res.body, `gdr_queue_jobs{queue="${q}",state="waiting",service="api"}`), q).toBe(0);
      expect(sample(res.body, `gdr_queue_oldest_waiting_seconds{queue="${q}",service="api"}`), q).toBe(0);
    }
    expect(sample(res.body, 'gdr_approvals_pending{service="api"}')).toBe(0);
    expect(sample(res.body, 'gdr_approvals_oldest_pending_seconds{service="api"}')).toBe(0);
  });

  it("matches the seeded queue and approval state", async () => {
    const instance = queueFor(queues, "instance");
    await instance.add("instance", { n: 1 }, { timestamp: Date.now() - 120_000 });
    await instance.add("instance", { n: 2 }, { timestamp: Date.now() - 10_000 });
    await queueFor(queues, "eks-pod").add("eks-pod", { n: 3 }, { delay: 600_000 });
    await failOneJob();
    await seedAwaitingApproval("f".repeat(32), 300);
    await seedAwaitingApproval("e".repeat(32), 30);

    const text = (await scrape()).body;
    const jobs = (queue: string, state: string) => sample(text, `gdr_queue_jobs{queue="${queue}",state="${state}",service="api"}`);
    expect(jobs("instance", "waiting")).toBe(2);
    expect(jobs("instance", "delayed")).toBe(0);
    expect(jobs("eks-pod", "delayed")).toBe(1);
    expect(jobs("eks-pod", "waiting")).toBe(0);
    expect(jobs("access-key", "failed")).toBe(1);
    expect(jobs("access-key", "active")).toBe(0);
    const oldest = sample(text, 'gdr_queue_oldest_waiting_seconds{queue="instance",service="api"}') ?? 0;
    expect(oldest).toBeGreaterThanOrEqual(120);
    expect(oldest).toBeLessThan(180);
    expect(sample(text, 'gdr_queue_oldest_waiting_seconds{queue="eks-pod",service="api"}')).toBe(0);
    expect(sample(text, 'gdr_approvals_pending{service="api"}')).toBe(2);
    const approvalAge = sample(text, 'gdr_approvals_oldest_pending_seconds{service="api"}') ?? 0;
    expect(approvalAge).toBeGreaterThanOrEqual(300);
    expect(approvalAge).toBeLessThan(360);
  });

  it("reads a queue's own state, not a leftover of another test's prefix", async () => {
    const other = new Queue("instance", { connection: redis.connection, prefix: `${redis.prefix}-other` });
    await other.add("instance", { n: 9 });
    const text = (await scrape()).body;
    expect(sample(text, 'gdr_queue_jobs{queue="instance",state="waiting",service="api"}')).toBe(2);
    await other.obliterate({ force: true });
    await other.close();
  });
});

describe("Grafana dashboard", () => {
  it("plots only metrics the code registers", async () => {
    const dashboard = readFileSync(new URL("../../docs/grafana/guardduty-responder.json", import.meta.url), "utf8");
    expect(JSON.parse(dashboard)).toMatchObject({ title: expect.any(String) as unknown, panels: expect.any(Array) as unknown });
    const referenced = [...new Set(dashboard.match(/gdr_[a-z_]+/g) ?? [])];
    expect(referenced.length).toBeGreaterThan(10);

    const registry = new Registry();
    createIngestMetrics(registry);
    createEngineMetrics(registry);
    registerQueueMetrics(registry, { queues, prisma: db.prisma, logger: createLogger({ level: "silent", name: "t" }) });
    const registered = new Set<string>();
    for (const m of await registry.getMetricsAsJSON()) {
      registered.add(m.name);
      if (m.type.toString() === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) registered.add(`${m.name}${suffix}`);
    }
    expect(referenced.filter((name) => !registered.has(name))).toEqual([]);
  });
});
