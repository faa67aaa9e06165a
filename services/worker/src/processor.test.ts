// The processor's answer to an outage, with BullMQ's Job as a fake (no Redis here): the engine's
// very first read fails because Postgres is away. The job must be postponed with a growing delay,
// counted on the job, and end in DelayedError (never a failed attempt), even when Redis refuses
// the move to delayed too.
import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import { QUEUE_CATALOG } from "@gdr/core/queues/catalog";
import { createLogger } from "@gdr/core/log";
import { Registry } from "prom-client";
import { describe, expect, it, vi } from "vitest";
import type { EngineDeps } from "./engine/deps.js";
import { createEngineMetrics } from "./metrics.js";
import { createProcessor } from "./processor.js";

const payload = {
  remediationId: "6f1c3f0e-8a4b-4a39-9f57-2f0d7f0b8c11",
  findingId: "0123456789abcdef0123456789abcdef",
  playbook: "instance",
  mode: "auto",
  accountId: "123456789012",
  region: "us-east-1",
  resourceKey: "i-0123456789abcdef0",
  action: "contain",
};

function postgresAway(): EngineDeps {
  const unreachable = Object.assign(new Error("Can't reach database server"), { code: "P1001" });
  // Only what the runner touches before it needs Postgres: load, which fails.
  const deps: Pick<EngineDeps, "store" | "logger" | "metrics"> = {
    store: { load: () => Promise.reject(unreachable) } as unknown as EngineDeps["store"],
    logger: createLogger({ level: "silent", name: "test" }),
    metrics: createEngineMetrics(new Registry()),
  };
  return deps as EngineDeps;
}

function fakeJob(data: Record<string, unknown>, moveToDelayed: () => Promise<void>) {
  return {
    id: "instance-f1-i-0123456789abcdef0",
    queueName: "instance",
    data,
    attemptsMade: 0,
    opts: { attempts: 8 },
    updateData: vi.fn(() => Promise.resolve()),
    moveToDelayed: vi.fn(moveToDelayed),
  };
}

const options = { definition: QUEUE_CATALOG.instance, rateLimit: () => Promise.resolve(), outageBackoff: { baseMs: 200, maxMs: 1_000 } };
const processor = createProcessor(postgresAway(), options);

describe("processor, Postgres away", () => {
  it("postpones without spending an attempt, the delay growing with the job's outages", async () => {
    const job = fakeJob({ ...payload, outages: 2 }, () => Promise.resolve());
    const before = Date.now();
    await expect(processor(job as unknown as Job, "token")).rejects.toBeInstanceOf(DelayedError);
    expect(job.updateData).toHaveBeenCalledWith({ ...payload, outages: 3 });
    const [until, token] = job.moveToDelayed.mock.calls[0] as unknown as [number, string];
    expect(token).toBe("token");
    // Third outage: 200 ms · 2² = 800 ms, jittered to between 400 and 800.
    expect(until - before).toBeGreaterThanOrEqual(400);
    expect(until - Date.now()).toBeLessThanOrEqual(800);
  });

  it("still ends in DelayedError when Redis refuses the move (BullMQ then finds the job stalled)", async () => {
    const job = fakeJob(payload, () => Promise.reject(new Error("Connection is closed.")));
    await expect(processor(job as unknown as Job, "token")).rejects.toBeInstanceOf(DelayedError);
    expect(job.moveToDelayed).toHaveBeenCalledOnce();
  });
});

describe("processor, payload", () => {
  it("refuses, for good and before the engine, a job whose payload names another playbook than its queue's", async () => {
    const job = fakeJob({ ...payload, playbook: "access-key" }, () => Promise.resolve());
    await expect(processor(job as unknown as Job, "token")).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(processor(job as unknown as Job, "token")).rejects.toThrow("playbook access-key on queue instance");
    expect(job.moveToDelayed).not.toHaveBeenCalled();
  });

  it("checks the payload with the queue's own schema from the catalog", async () => {
    const strict = { ...options, definition: { ...QUEUE_CATALOG.instance, payload: QUEUE_CATALOG.instance.payload.refine(() => false, "refused by this queue's schema") } };
    const job = fakeJob(payload, () => Promise.resolve());
    await expect(createProcessor(postgresAway(), strict)(job as unknown as Job, "token")).rejects.toThrow("refused by this queue's schema");
  });
});
