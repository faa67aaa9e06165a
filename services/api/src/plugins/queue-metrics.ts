import type { PrismaClient } from "@gdr/core/db/client";
import type { Logger } from "@gdr/core/log";
import { createMetricsRegistry, type Registry } from "@gdr/core/metrics";
import type { RemediationQueues } from "@gdr/core/queues/queues";
import type { FastifyPluginCallbackZod } from "fastify-type-provider-zod";
import type { Queue } from "bullmq";
import { Gauge } from "prom-client";
import { z } from "zod";
import type { ApiDeps } from "../deps.js";
import { requireRole } from "./auth.js";
import { errorBody } from "./errors.js";

/** The BullMQ states exported as `gdr_queue_jobs{state}`. */
export const QUEUE_STATES = ["waiting", "active", "delayed", "failed", "completed"] as const;

type MetricsDeps = Pick<ApiDeps, "prisma" | "queues" | "logger" | "registry">;

/**
 * Gauges computed at scrape time (prom-client `collect`), so they are never stale and no timer
 * runs in the API: queue depths and ages from BullMQ, the approval backlog from Postgres. Each
 * collect resets its gauge first: a failed read leaves the series absent rather than old.
 */
export function registerQueueMetrics(registry: Registry, deps: MetricsDeps): void {
  const registers = [registry];
  const { queues, prisma, logger } = deps;

  new Gauge({
    name: "gdr_queue_jobs",
    help: "Jobs in each BullMQ remediation queue, by state",
    labelNames: ["queue", "state"],
    registers,
    async collect() {
      this.reset();
      await eachQueue(queues, logger, async (name, queue) => {
        const counts = await queue.getJobCounts(...QUEUE_STATES);
        for (const state of QUEUE_STATES) this.set({ queue: name, state }, counts[state] ?? 0);
      });
    },
  });

  new Gauge({
    name: "gdr_queue_oldest_waiting_seconds",
    help: "Age of the oldest waiting job in each queue (0 when none waits)",
    labelNames: ["queue"],
    registers,
    async collect() {
      this.reset();
      await eachQueue(queues, logger, async (name, queue) => {
        // asc: the job at the consuming end of the wait list, i.e. the one waiting longest.
        const [oldest] = await queue.getJobs(["waiting"], 0, 0, true);
        this.set({ queue: name }, oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0);
      });
    },
  });

  // One query feeds both approval gauges; the promise is shared within a scrape.
  let backlog: Promise<{ pending: number; oldestSeconds: number }> | undefined;
  const readBacklog = () => {
    backlog ??= approvalBacklog(prisma).finally(() => {
      backlog = undefined;
    });
    return backlog;
  };

  new Gauge({
    name: "gdr_approvals_pending",
    help: "Remediations awaiting an approval",
    registers,
    async collect() {
      this.reset();
      this.set((await readBacklog()).pending);
    },
  });

  new Gauge({
    name: "gdr_approvals_oldest_pending_seconds",
    help: "How long the longest-waiting remediation has awaited approval (0 when none)",
    registers,
    async collect() {
      this.reset();
      this.set((await readBacklog()).oldestSeconds);
    },
  });
}

async function eachQueue(queues: RemediationQueues, logger: Logger, read: (name: string, queue: Queue) => Promise<void>): Promise<void> {
  await Promise.all(
    [...queues].map(async ([name, queue]) => {
      try {
        await read(name, queue);
      } catch (err) {
        logger.warn({ err: { message: err instanceof Error ? err.message : String(err) }, queue: name }, "queue metrics: could not read the queue");
      }
    }),
  );
}

/**
 * Age counts from the latest `remediation.awaiting_approval` audit event (when the gate was
 * reached), falling back to the row's updated_at for rows written without one.
 */
async function approvalBacklog(prisma: PrismaClient): Promise<{ pending: number; oldestSeconds: number }> {
  const rows = await prisma.$queryRaw<{ pending: number; oldest: Date | null }[]>`
    SELECT count(*)::int AS pending,
           min(coalesce((SELECT max(a.at) FROM audit_events a
                          WHERE a.remediation_id = r.id AND a.action = 'remediation.awaiting_approval'), r.updated_at)) AS oldest
      FROM remediations r
     WHERE r.status = 'awaiting_approval'`;
  const row = rows[0];
  return { pending: row?.pending ?? 0, oldestSeconds: row?.oldest ? Math.max(0, (Date.now() - row.oldest.getTime()) / 1000) : 0 };
}

/**
 * GET /metrics for Prometheus, with a viewer token like every route but /healthz. Prometheus sends
 * one natively (`authorization: { credentials_file: ... }` in the scrape config): create a viewer
 * token for it (`npm run token -- create --role viewer --name prometheus`); a viewer can read, never
 * decide or pause. The series are counts and ages only (no ids, no finding data).
 */
export function queueMetricsRoutes(deps: MetricsDeps): FastifyPluginCallbackZod {
  return (app, _options, done) => {
    const registry = deps.registry ?? createMetricsRegistry({ service: "api" });
    registerQueueMetrics(registry, deps);
    app.get(
      "/metrics",
      {
        onRequest: requireRole(deps.prisma, "viewer"),
        schema: {
          summary: "Prometheus metrics (queue depths, approval backlog); viewer token",
          response: { 200: { description: "Prometheus text exposition format", content: { "text/plain": { schema: z.string() } } }, 401: errorBody, 403: errorBody },
        },
      },
      async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
    );
    done();
  };
}
