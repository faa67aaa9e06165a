import { afterEach, describe, expect, it, vi } from "vitest";
import { startPeriodic } from "./periodic.js";

afterEach(() => {
  vi.useRealTimers();
});

/** A pass that stays open until released, counting how often it started. */
function gatedPass() {
  let starts = 0;
  let release: () => void = () => undefined;
  const pass = () => {
    starts++;
    return new Promise<number>((resolve) => {
      release = () => { resolve(starts); };
    });
  };
  return { pass, starts: () => starts, release: () => { release(); } };
}

describe("startPeriodic", () => {
  it("never overlaps passes: a call or a tick during a pass gets that pass", async () => {
    vi.useFakeTimers();
    const gate = gatedPass();
    const periodic = startPeriodic(1_000, gate.pass, () => undefined);
    const first = periodic.run();
    const second = periodic.run();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(gate.starts()).toBe(1);
    gate.release();
    expect(await first).toBe(1);
    expect(await second).toBe(1);
    await periodic.stop();
  });

  it("hands a failing timed pass to onFailure and runs again at the next tick", async () => {
    vi.useFakeTimers();
    const failures: unknown[] = [];
    let calls = 0;
    const periodic = startPeriodic(
      1_000,
      () => (++calls === 1 ? Promise.reject(new Error("database away")) : Promise.resolve(calls)),
      (err) => failures.push(err),
    );
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls).toBe(2);
    expect(failures).toEqual([new Error("database away")]);
    await expect(startPeriodic(1_000, () => Promise.reject(new Error("x")), () => undefined).run()).rejects.toThrow("x");
    await periodic.stop();
  });

  it("stop waits for the pass in progress and no tick starts another", async () => {
    vi.useFakeTimers();
    const gate = gatedPass();
    const periodic = startPeriodic(1_000, gate.pass, () => undefined);
    void periodic.run();
    let stopped = false;
    const stopping = periodic.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(stopped).toBe(false);
    gate.release();
    await stopping;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(gate.starts()).toBe(1);
  });
});
