import { describe, expect, it } from "vitest";
import { backoffMs } from "./backoff.js";
import { BatchStageError, classifyFailure, stage } from "./failure.js";

describe("stage and classifyFailure", () => {
  it("tags failures with their stage and names the dependency", async () => {
    const fail = (err: Error) => () => Promise.reject(err);
    const record = await stage("record", fail(new Error("x"))).catch((e: unknown) => e);
    const enqueue = await stage("enqueue", fail(new Error("Connection is closed."))).catch((e: unknown) => e);
    const enqueueDb = await stage("enqueue", fail(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }))).catch((e: unknown) => e);
    const del = await stage("delete", fail(new Error("throttled"))).catch((e: unknown) => e);
    expect(record).toBeInstanceOf(BatchStageError);
    expect(classifyFailure(record)).toBe("database");
    expect(classifyFailure(enqueue)).toBe("redis");
    expect(classifyFailure(enqueueDb)).toBe("database");
    expect(classifyFailure(del)).toBe("sqs");
    expect(classifyFailure(new Error("elsewhere"))).toBe("unknown");
  });

  it("passes results through untouched", async () => {
    expect(await stage("record", () => Promise.resolve(42))).toBe(42);
  });
});

describe("backoffMs", () => {
  it("grows exponentially with jitter and stays under the cap", () => {
    for (let failures = 1; failures <= 12; failures++) {
      const ceiling = Math.min(30_000, 1_000 * 2 ** (failures - 1));
      for (let i = 0; i < 50; i++) {
        const ms = backoffMs(failures);
        expect(ms).toBeGreaterThanOrEqual(ceiling / 2);
        expect(ms).toBeLessThanOrEqual(ceiling);
      }
    }
  });
});
