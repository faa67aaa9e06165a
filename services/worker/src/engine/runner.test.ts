// Unit test of the runner's decision under the resource lock: it acts on the remediation as it
// is once the lock is held, not on the row it read before waiting for it.
import { createLogger } from "@gdr/core/log";
import type { RemediationJob } from "@gdr/core/queues/catalog";
import { describe, expect, it } from "vitest";
import type { EngineDeps } from "./deps.js";
import { runRemediation } from "./runner.js";
import type { LoadedRemediation } from "./store.js";

const job: RemediationJob = {
  remediationId: "5d1c8a4e-0c1f-4d55-9b9e-2f8a7c1e3b10",
  findingId: "f-1",
  playbook: "instance",
  mode: "auto",
  accountId: "123456789012",
  region: "us-east-1",
  resourceKey: "i-0123456789abcdef0",
  action: "contain",
};

function row(status: LoadedRemediation["status"]): LoadedRemediation {
  return {
    ref: { id: job.remediationId, findingId: job.findingId, accountId: job.accountId, region: job.region, resourceKey: job.resourceKey, playbook: job.playbook, mode: job.mode },
    status,
    planHash: null,
    planAction: null,
    planSteps: [],
    planReleaseFrom: null,
    finding: {},
    findingCreatedAt: new Date(),
    createdAt: new Date(),
    containedAt: null,
  };
}

describe("runRemediation under the resource lock", () => {
  it("reads the remediation again once the lock is held: a job that waited behind another one for the same remediation, settled meanwhile, has nothing to do", async () => {
    // Read before the lock: queued. Read under it: the first job has contained it (succeeded).
    const reads = [row("queued"), row("succeeded")];
    const writes: string[] = [];
    let released = false;
    const deps = {
      store: {
        load: () => Promise.resolve(reads.shift() ?? null),
        setStatus: (_id: string, status: string) => {
          writes.push(`status:${status}`);
          return Promise.resolve();
        },
        steps: () => Promise.reject(new Error("the stale row was acted on")),
        audit: () => Promise.resolve(),
      },
      playbookFor: () => ({ name: "instance", steps: [], release: [], containment: [], isolates: false, families: {} }),
      limits: {
        isPaused: () => Promise.resolve({ paused: false }),
        acquireResource: () =>
          Promise.resolve({
            lost: new AbortController().signal,
            release: () => {
              released = true;
              return Promise.resolve();
            },
          }),
      },
      logger: createLogger({ level: "silent", name: "test" }),
      notifier: { notify: () => undefined },
      signal: new AbortController().signal,
      postponeMs: 250,
      publicUrl: "http://localhost",
    } as unknown as EngineDeps;

    const outcome = await runRemediation(job, { jobId: "j-2", attemptsMade: 0, attempts: 8 }, deps);
    expect(outcome).toBe("nothing_to_do");
    expect(reads).toEqual([]);
    expect(writes).toEqual([]);
    expect(released).toBe(true);
  });
});
