// Lines the worker benchmark prints about where a job's time and work go.
import type { WorkerConfig } from "@gdr/worker/config";
import { bucketTable, ENGINE_FAMILIES } from "@gdr/worker/engine/limits/index";
import { INSTANCE_FAMILIES } from "@gdr/worker/playbooks/instance/families";
import type { ApiFamily } from "@gdr/worker/engine/step";
import type { PgCounters } from "./dry-run.js";
import { FIXED_FAMILIES, type LimitWatch, type Tally } from "./instrument.js";

const per = (n: number, jobs: number): string => (jobs > 0 ? (n / jobs).toFixed(1) : "n/a");

/** AWS calls per job by service, the time they took, and the operations that took most of it. */
export function printCalls(label: string, calls: Tally, jobs: number): void {
  const services = new Map<string, { n: number; ms: number }>();
  for (const key of calls.keys()) {
    const service = key.split(" ")[0] ?? "?";
    const s = services.get(service) ?? { n: 0, ms: 0 };
    const e = calls.get(key);
    s.n += e.n;
    s.ms += e.ms;
    services.set(service, s);
  }
  const total = calls.total();
  console.log(
    `${label}: ${per(total.n, jobs)} calls, ${per(total.ms, jobs)} ms in moto (` +
      [...services].map(([s, e]) => `${s} ${per(e.n, jobs)} × ${(e.ms / Math.max(1, e.n)).toFixed(1)} ms`).join(", ") +
      ")",
  );
  const top = calls
    .keys()
    .map((k) => ({ k, ...calls.get(k) }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 6);
  console.log(`${" ".repeat(label.length)}  most time: ${top.map((t) => `${t.k} ${per(t.n, jobs)} × ${(t.ms / t.n).toFixed(1)} ms`).join(", ")}`);
}

/** Token waits, lock waits and lock refusals per job. */
export function printLimits(label: string, watch: LimitWatch, jobs: number): void {
  const tokens = watch.throttle
    .keys()
    .map((f) => `${f} ${per(watch.throttle.get(f).n, jobs)} tokens / ${per(watch.throttle.get(f).ms, jobs)} ms`)
    .join(", ");
  const locks = watch.lockWait.keys().map((l) => `${l} lock ${per(watch.lockWait.get(l).n, jobs)} × ${(watch.lockWait.get(l).ms / Math.max(1, watch.lockWait.get(l).n)).toFixed(1)} ms wait`);
  const busy = watch.resourceBusy.get("busy").n;
  console.log(`${label}: ${tokens}${locks.length > 0 ? `; ${locks.join(", ")}` : ""}; resource lock busy (postponed) ${busy} in total`);
}

/** The statements node-postgres sent, per job, and pg_stat_database's view of the same run. */
export function printStatements(label: string, statements: Tally, stat: PgCounters, jobs: number): void {
  const kinds = statements
    .keys()
    .map((k) => ({ k, n: statements.get(k).n }))
    .sort((a, b) => b.n - a.n);
  const writes = kinds.filter((k) => /^(INSERT|UPDATE|DELETE)/.test(k.k)).reduce((s, k) => s + k.n, 0);
  console.log(
    `${label}: ${per(statements.total().n, jobs)} statements (${per(writes, jobs)} writes): ${kinds.map((k) => `${k.k} ${per(k.n, jobs)}`).join(", ")}`,
  );
  console.log(
    `${" ".repeat(label.length)}  pg_stat_database: ${per(stat.xact_commit, jobs)} commits (reads included), ${per(stat.tup_inserted, jobs)} rows inserted (TOAST chunks included), ${per(stat.tup_updated, jobs)} rows updated`,
  );
}

/**
 * For each token-bucket family: tokens taken per job, and the sustained remediations per second
 * that bucket allows at the worker's defaults and at the benchmark's settings (refill / tokens).
 */
export function printBucketCaps(label: string, watch: LimitWatch, jobs: number, config: Readonly<WorkerConfig>, raised?: Readonly<Record<ApiFamily, { refillPerSecond: number }>>): void {
  const defaults = bucketTable([
    { name: "engine", families: ENGINE_FAMILIES },
    { name: "instance", families: INSTANCE_FAMILIES },
  ]);
  const fromEnv = bucketTable([{ name: "defaults", families: defaults }], config);
  const bench = (family: ApiFamily) => (raised && FIXED_FAMILIES.includes(family) ? raised : fromEnv)[family]?.refillPerSecond ?? Number.NaN;
  const parts = watch.throttle.keys().map((key) => {
    const family: ApiFamily = key;
    const tokens = watch.throttle.get(family).n / Math.max(1, jobs);
    const atDefault = (defaults[family]?.refillPerSecond ?? Number.NaN) / tokens;
    const atBench = bench(family) / tokens;
    return `${family} ${atDefault.toFixed(1)} (bench ${atBench.toFixed(0)})`;
  });
  console.log(`${label}: sustained remediations/s each bucket allows at the defaults: ${parts.join(", ")}`);
}
