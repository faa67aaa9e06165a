import { describe, expect, it } from "vitest";
import { createLogger } from "./log.js";
import { createShutdown } from "./shutdown.js";

const logger = createLogger({ level: "silent", name: "test" });

describe("createShutdown", () => {
  it("runs handlers last-in-first-out, once, and aborts its signal", async () => {
    const shutdown = createShutdown({ logger, timeoutMs: 1_000 });
    const order: string[] = [];
    shutdown.register("prisma", () => Promise.resolve(void order.push("prisma")));
    shutdown.register("queues", () => Promise.resolve(void order.push("queues")));
    shutdown.register("api", () => Promise.resolve(void order.push("api")));
    const [first, second] = await Promise.all([shutdown.run("test"), shutdown.run("again")]);
    expect(first).toBe(true);
    expect(second).toBe(true);
    expect(order).toEqual(["api", "queues", "prisma"]);
    expect(shutdown.signal.aborted).toBe(true);
  });

  it("keeps going when a handler fails", async () => {
    const shutdown = createShutdown({ logger, timeoutMs: 1_000 });
    const order: string[] = [];
    shutdown.register("last", () => Promise.resolve(void order.push("last")));
    shutdown.register("broken", () => Promise.reject(new Error("boom")));
    expect(await shutdown.run("test")).toBe(true);
    expect(order).toEqual(["last"]);
  });

  it("resolves false when the deadline passes with a handler still running", async () => {
    const shutdown = createShutdown({ logger, timeoutMs: 1_000 });
    let release: () => void = () => undefined;
    shutdown.register("hung", () => new Promise<void>((resolve) => (release = resolve)));
    const { useFakeTimers, useRealTimers, advanceTimersByTimeAsync } = await import("vitest").then((m) => m.vi);
    useFakeTimers();
    try {
      const result = shutdown.run("test");
      await advanceTimersByTimeAsync(1_001);
      expect(await result).toBe(false);
    } finally {
      useRealTimers();
      release();
    }
  });
});
