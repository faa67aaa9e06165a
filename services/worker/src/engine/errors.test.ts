// Unit tests of the step-boundary classification (errors.ts) and how runStep (step-runner.ts)
// turns it into the engine's signals: what spends an attempt and what only postpones the job.
import { createLogger } from "@gdr/core/log";
import { Registry } from "prom-client";
import { z } from "zod";
import { describe, expect, it } from "vitest";
import { createEngineMetrics } from "../metrics.js";
import type { EngineDeps } from "./deps.js";
import { classifyStepError } from "./errors.js";
import { LockTimeoutError } from "./limits/index.js";
import { Postpone, Unavailable } from "./signals.js";
import type { Step, StepContext } from "./step.js";
import { runStep } from "./step-runner.js";
import type { LoadedRemediation } from "./store.js";

/** What an SDK call aborted by its signal fails with. */
function abortError(): Error {
  const err = new Error("Request aborted");
  err.name = "AbortError";
  return err;
}

describe("classifyStepError", () => {
  it("takes a busy shared lock (LockTimeoutError) for busy, not for an attempt spent", () => {
    expect(classifyStepError(new LockTimeoutError("isolation:vpc-1", 60_000))).toMatchObject({ kind: "busy", code: "LockTimeoutError" });
  });

  it("takes any error once the worker's stop signal is aborted for unavailable (worker stopping), not for a step failure", () => {
    const stopping = new AbortController();
    stopping.abort(new Error("worker stopping"));
    const step = AbortSignal.any([stopping.signal]);
    expect(classifyStepError(abortError(), step, stopping.signal)).toMatchObject({ kind: "unavailable", code: "WorkerStopping" });
  });

  it("still takes an aborted call for retryable while the worker is not stopping", () => {
    expect(classifyStepError(abortError(), undefined, new AbortController().signal).kind).toBe("retryable");
  });
});

// --- runStep with a recording store ---------------------------------------------------------

const loaded: LoadedRemediation = {
  ref: { id: "r-1", findingId: "f-1", accountId: "123456789012", region: "us-east-1", resourceKey: "i-1", playbook: "instance", mode: "auto" },
  status: "running",
  planHash: null,
  planAction: null,
  planSteps: [],
  planReleaseFrom: null,
  finding: {},
  findingCreatedAt: new Date(),
  createdAt: new Date(),
  containedAt: null,
};

function failingStep(err: unknown): Step {
  return {
    name: "isolate",
    destructive: false,
    check: () => Promise.resolve({ done: false }),
    act: () => Promise.reject(err instanceof Error ? err : new Error(String(err))),
    verify: () => Promise.resolve(),
    output: z.null(),
  };
}

function world(stopping: AbortSignal) {
  const statuses: string[] = [];
  const failed: { final: boolean; errorClass: string; code: string }[] = [];
  const deps = {
    store: {
      stepStarted: () => Promise.resolve(),
      stepFailed: (_id: string, _name: string, e: { final: boolean; errorClass: string; code: string }) => {
        failed.push({ final: e.final, errorClass: e.errorClass, code: e.code });
        return Promise.resolve();
      },
      setStatus: (_id: string, status: string) => {
        statuses.push(status);
        return Promise.resolve();
      },
    },
    metrics: createEngineMetrics(new Registry()),
    logger: createLogger({ level: "silent", name: "test" }),
    signal: stopping,
    postponeMs: 250,
  } as unknown as EngineDeps;
  const ctx = { signal: AbortSignal.any([stopping]), requestIds: [] as string[] } as unknown as StepContext & { requestIds: string[] };
  return { deps, ctx, statuses, failed };
}

/** The last of its attempts: a retryable error here would fail the remediation. */
const LAST = { jobId: "j-1", attemptsMade: 7, attempts: 8 };

describe("runStep", () => {
  it("postpones a step whose shared lock stayed busy: no attempt spent, the remediation not failed on the last attempt", async () => {
    const w = world(new AbortController().signal);
    const run = runStep(failingStep(new LockTimeoutError("isolation:vpc-1", 60_000)), 2, loaded, w.ctx, new Map(), LAST, w.deps);
    await expect(run).rejects.toBeInstanceOf(Postpone);
    await expect(run).rejects.toMatchObject({ why: "lock_busy" });
    expect(w.statuses).toEqual([]);
    expect(w.failed).toEqual([{ final: false, errorClass: "busy", code: "LockTimeoutError" }]);
  });

  it("postpones a call aborted by the worker's stop signal (a deploy): no attempt spent, the remediation not failed on the last attempt", async () => {
    const stopping = new AbortController();
    stopping.abort(new Error("worker stopping"));
    const w = world(stopping.signal);
    const run = runStep(failingStep(abortError()), 2, loaded, w.ctx, new Map(), LAST, w.deps);
    await expect(run).rejects.toBeInstanceOf(Unavailable);
    await expect(run).rejects.toMatchObject({ what: "stopping" });
    expect(w.statuses).toEqual([]);
    expect(w.failed).toEqual([{ final: false, errorClass: "unavailable", code: "WorkerStopping" }]);
  });
});
