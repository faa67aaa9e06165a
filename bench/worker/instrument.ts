// Measuring instruments for the worker benchmark. They observe the worker from the outside: an
// SDK middleware (the worker's own test hook, awsMiddleware), wrappers around the limits object
// the worker service exposes (its engine holds the same object), and a count of the statements
// node-postgres sends. Nothing here changes what the worker does, except raiseFixedBuckets,
// which the benchmark asks for explicitly and prints.
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import pg from "pg";
import type { AwsClients } from "@gdr/core/aws/clients";
import type { FinalizeRequestMiddleware, MiddlewareStack } from "@smithy/types";
import type { WorkerService } from "@gdr/worker/service";
import type { ApiFamily } from "@gdr/worker/engine/step";
import type { TokenBucket } from "@gdr/worker/engine/limits/index";

/** A count and a sum of milliseconds per key. */
export class Tally {
  private readonly entries = new Map<string, { n: number; ms: number }>();

  add(key: string, ms = 0): void {
    const e = this.entries.get(key) ?? { n: 0, ms: 0 };
    e.n += 1;
    e.ms += ms;
    this.entries.set(key, e);
  }

  get(key: string): { n: number; ms: number } {
    return this.entries.get(key) ?? { n: 0, ms: 0 };
  }

  keys(): string[] {
    return [...this.entries.keys()].sort();
  }

  total(): { n: number; ms: number } {
    let n = 0;
    let ms = 0;
    for (const e of this.entries.values()) {
      n += e.n;
      ms += e.ms;
    }
    return { n, ms };
  }

  clear(): void {
    this.entries.clear();
  }
}

interface WithMiddleware<Input extends object, Output extends object> {
  middlewareStack: MiddlewareStack<Input, Output>;
}

function timeCalls<Input extends object, Output extends object>(client: WithMiddleware<Input, Output>, service: string, tally: Tally): void {
  const middleware: FinalizeRequestMiddleware<Input, Output> = (next, context) => async (args) => {
    const started = performance.now();
    try {
      return await next(args);
    } finally {
      tally.add(`${service} ${(context.commandName ?? "?").replace(/Command$/, "")}`, performance.now() - started);
    }
  };
  client.middlewareStack.add(middleware, { step: "finalizeRequest", priority: "low", name: "gdr-bench-timing", override: true });
}

/** For WorkerServiceDeps.awsMiddleware: every AWS call (each SDK attempt) counted and timed, by service and operation. */
export function awsCallTally(tally: Tally): (clients: AwsClients) => void {
  return (clients) => {
    timeCalls(clients.ec2, "ec2", tally);
    timeCalls(clients.autoscaling, "autoscaling", tally);
    timeCalls(clients.elbv2, "elbv2", tally);
    timeCalls(clients.guardduty, "guardduty", tally);
  };
}

/** The token-bucket families the worker's environment cannot set (limits-config.ts reads EC2 ones only). */
export const FIXED_FAMILIES: readonly ApiFamily[] = ["autoscaling", "elbv2", "guardduty"];

export interface LimitWatch {
  /** Time spent waiting for a token, by family (`n` = tokens taken). */
  throttle: Tally;
  /** Time spent waiting for a named lock (the VPC's isolation-group lock) before holding it. */
  lockWait: Tally;
  /** Per-resource lock refusals (each postpones a job by WORKER_POSTPONE_MS). */
  resourceBusy: Tally;
}

/**
 * Wraps the worker's limits to time token waits and lock waits. When `fixedBuckets` is given,
 * the families the environment cannot set take their tokens from it (same Redis, same script:
 * the same cost per call, only larger buckets) instead of the worker's defaults.
 */
export function watchLimits(service: WorkerService, fixedBuckets?: TokenBucket): LimitWatch {
  const limits = service.limits;
  const watch: LimitWatch = { throttle: new Tally(), lockWait: new Tally(), resourceBusy: new Tally() };
  const throttle = limits.throttle.bind(limits);
  const withLock = limits.withLock.bind(limits);
  const acquireResource = limits.acquireResource.bind(limits);
  limits.throttle = async (accountId, family, signal) => {
    const started = performance.now();
    if (fixedBuckets && FIXED_FAMILIES.includes(family)) await fixedBuckets.take(accountId, family, signal);
    else await throttle(accountId, family, signal);
    watch.throttle.add(family, performance.now() - started);
  };
  limits.withLock = (name, fn) => {
    const started = performance.now();
    return withLock(name, () => {
      watch.lockWait.add(name.replace(/:.*$/, ""), performance.now() - started);
      return fn();
    });
  };
  limits.acquireResource = async (key) => {
    const lock = await acquireResource(key);
    if (!lock) watch.resourceBusy.add("busy");
    return lock;
  };
  return watch;
}

/** Statements node-postgres sends in this process, by kind and table ("INSERT remediation_steps"). */
export function countPgStatements(): { tally: Tally; stop(): void } {
  const tally = new Tally();
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]): unknown {
    const first = args[0];
    const text = typeof first === "string" ? first : typeof first === "object" && first !== null && "text" in first ? String(first.text) : "";
    tally.add(statementKind(text));
    return original.apply(this, args);
  };
  return {
    tally,
    stop() {
      proto.query = original;
    },
  };
}

function statementKind(sql: string): string {
  const verb = (/^\s*(\w+)/.exec(sql)?.[1] ?? "?").toUpperCase();
  if (verb === "BEGIN" || verb === "COMMIT" || verb === "ROLLBACK") return verb;
  const quoted = /"public"\."(\w+)"/.exec(sql)?.[1];
  const bare = /\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?/i.exec(sql)?.[1];
  return `${verb} ${quoted ?? bare ?? "?"}`;
}

/** Samples the process's resident set every `intervalMs` and keeps the peak. */
export function rssSampler(intervalMs = 100): { peak(): number; stop(): void } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, intervalMs);
  timer.unref();
  return {
    peak: () => Math.max(peak, process.memoryUsage().rss),
    stop: () => {
      clearInterval(timer);
    },
  };
}

/** CPU used between start and read(): this process's, and the whole machine's (from /proc/stat). */
export function cpuMeter(): { read(): { wallMs: number; nodeMs: number; machineBusy: number; cores: number } } {
  const wall0 = performance.now();
  const node0 = process.cpuUsage();
  const machine0 = machineTicks();
  return {
    read() {
      const node = process.cpuUsage(node0);
      const machine = machineTicks();
      const total = machine.total - machine0.total;
      const busy = total - (machine.idle - machine0.idle);
      return { wallMs: performance.now() - wall0, nodeMs: (node.user + node.system) / 1000, machineBusy: total > 0 ? (busy / total) * cpus().length : Number.NaN, cores: cpus().length };
    },
  };
}

function machineTicks(): { total: number; idle: number } {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    return { total: ticks.reduce((a, b) => a + b, 0), idle: (ticks[3] ?? 0) + (ticks[4] ?? 0) };
  } catch {
    return { total: 0, idle: 0 }; // not Linux: machine figures print as NaN
  }
}

export function describeCpu(c: ReturnType<ReturnType<typeof cpuMeter>["read"]>, jobs: number): string {
  return `node ${(c.nodeMs / c.wallMs).toFixed(2)} cores (${(c.nodeMs / Math.max(1, jobs)).toFixed(1)} ms per job), machine ${c.machineBusy.toFixed(2)} of ${c.cores} cores busy (moto, Postgres, Redis, node and anything else running)`;
}

/** The p-th percentile (0-100) by nearest rank; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
export const secs = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;
