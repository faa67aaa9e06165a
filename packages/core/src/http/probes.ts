import Fastify from "fastify";
import type { Registry } from "prom-client";
import type { Logger } from "../log.js";

interface CheckResult {
  ok: boolean;
  error?: string;
}

export type ReadinessCheck = (signal: AbortSignal) => Promise<void>;

export interface ProbeServerOptions {
  logger: Logger;
  registry: Registry;
  /** Named dependency checks for /readyz; each must answer within `checkTimeoutMs`. */
  checks: Record<string, ReadinessCheck>;
  /** /healthz answers 503 once this returns false (e.g. the service is shutting down). */
  alive: () => boolean;
  checkTimeoutMs?: number;
}

/**
 * /healthz (the process is up and its loops run), /readyz (every dependency answers) and
 * /metrics (Prometheus). Used by the ingest and worker processes; the API serves its own.
 */
export function createProbeServer(options: ProbeServerOptions) {
  // Probes are hit every few seconds; their requests are not worth a log line each.
  const app = Fastify({ logger: false });
  const timeoutMs = options.checkTimeoutMs ?? 3_000;

  app.get("/healthz", async (_req, reply) => {
    const alive = options.alive();
    return reply.code(alive ? 200 : 503).send({ status: alive ? "ok" : "stopping" });
  });

  app.get("/readyz", async (_req, reply) => {
    const results = await Promise.all(
      Object.entries(options.checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
        try {
          await withDeadline(check, timeoutMs);
          return [name, { ok: true }];
        } catch (err) {
          return [name, { ok: false, error: err instanceof Error ? err.message.slice(0, 200) : String(err) }];
        }
      }),
    );
    const ready = options.alive() && results.every(([, r]) => r.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not_ready", checks: Object.fromEntries(results) });
  });

  app.get("/metrics", async (_req, reply) => {
    return reply.header("content-type", options.registry.contentType).send(await options.registry.metrics());
  });

  return app;
}

/** Runs a check, failing it when the deadline passes even if the check ignores its signal. */
async function withDeadline(check: ReadinessCheck, timeoutMs: number): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs);
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    onAbort = () => {
      reject(new Error(`no answer within ${timeoutMs} ms`));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([check(signal), deadline]);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}
