// The kill switch on real Postgres and Redis: Postgres (control_switches) is its record, Redis a
// copy that may vanish. It fails closed (no copy and no readable record reads paused), a change is
// recorded with its audit event before Redis changes, and a change that cannot be recorded changes
// nothing (POST /v1/pause with a NUL reason, scripts/pause.ts without DATABASE_URL).
import { createToken } from "@gdr/core/auth/tokens";
import { createPauseSwitch, pauseKey, type PauseSwitch } from "@gdr/core/control/pause";
import { createPrisma } from "@gdr/core/db/client";
import { createLogger } from "@gdr/core/log";
import { loadPolicyFile } from "@gdr/core/policy/index";
import { createQueues } from "@gdr/core/queues/queues";
import { spawn } from "node:child_process";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../services/api/src/app.js";
import {
  createTestDatabase,
  createTestRedis,
  deleteByPrefix,
  startTcpProxy,
  type TestDatabase,
  type TestRedis,
} from "../support/index.js";
import { createApiWorld, type ApiWorld } from "../api/world.js";
import { repoRoot } from "../support/repo-root.js";

let db: TestDatabase;
let redis: TestRedis;
let other: Redis;
let lane = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  other = new Redis(redis.url);
});

afterAll(async () => {
  other.disconnect();
  await Promise.all([db.drop(), redis.cleanup()]);
});

/** The record is one row per database: each test starts without it, on a queue prefix of its own. */
async function fresh(): Promise<{ queuePrefix: string; here: PauseSwitch; there: PauseSwitch }> {
  await db.pool.query("DELETE FROM control_switches");
  const queuePrefix = `${redis.prefix}-${++lane}`;
  return {
    queuePrefix,
    here: createPauseSwitch(redis.connection, { queuePrefix, prisma: db.prisma, via: "test" }),
    there: createPauseSwitch(other, { queuePrefix, prisma: db.prisma }),
  };
}

async function record(): Promise<{ on: boolean; by: string; reason: string | null } | undefined> {
  const { rows } = await db.pool.query<{ on: boolean; by: string; reason: string | null }>("SELECT \"on\", by, reason FROM control_switches WHERE name = 'pause'");
  return rows[0];
}

/** audit_events is append-only: a test reads the events after the newest one when it started. */
async function auditMark(): Promise<string> {
  const { rows } = await db.pool.query<{ n: string }>("SELECT coalesce(max(id), 0)::text AS n FROM audit_events");
  return rows[0]?.n ?? "0";
}

async function pauseAudit(after: string): Promise<{ actor: string; action: string; detail: { reason: string | null; via?: string } }[]> {
  const { rows } = await db.pool.query<{ actor: string; action: string; detail: { reason: string | null; via?: string } }>(
    "SELECT actor, action, detail FROM audit_events WHERE action LIKE 'workers.%' AND id > $1 ORDER BY id",
    [after],
  );
  return rows;
}

describe("the kill switch's record and copy", () => {
  it("pauses and resumes every reader, with who and why, and records each change with its audit event", async () => {
    const mark = await auditMark();
    const { queuePrefix, here, there } = await fresh();
    expect(await there.isPaused()).toEqual({ paused: false });

    const change = await here.pause("alice@example.com", "isolations misfiring in prod");
    expect(change.propagated).toBe(true);
    const paused = await there.isPaused();
    expect(paused).toMatchObject({ paused: true, by: "alice@example.com", reason: "isolations misfiring in prod" });
    expect(Number.isNaN(Date.parse(paused.since ?? ""))).toBe(false);
    expect(await record()).toEqual({ on: true, by: "alice@example.com", reason: "isolations misfiring in prod" });

    await there.resume("bob@example.com");
    expect(await here.isPaused()).toMatchObject({ paused: false, by: "bob@example.com" });
    expect(await record()).toEqual({ on: false, by: "bob@example.com", reason: null });
    expect(await redis.connection.keys(`${queuePrefix}:*`)).toEqual([pauseKey(queuePrefix)]);
    // The copy expires, so a copy left stale by a failed write heals from the record.
    expect(await redis.connection.pttl(pauseKey(queuePrefix))).toBeGreaterThan(0);

    expect(await pauseAudit(mark)).toEqual([
      { actor: "alice@example.com", action: "workers.paused", detail: { reason: "isolations misfiring in prod", via: "test" } },
      { actor: "bob@example.com", action: "workers.resumed", detail: { reason: null } },
    ]);
    await expect(here.pause(" ", "no one")).rejects.toThrow(/by must not be empty/);
  });

  it("stays paused after Redis loses its copy (the prefix's keys flushed), and puts the copy back from Postgres", async () => {
    const { queuePrefix, here, there } = await fresh();
    await here.pause("oncall", "bad deploy");
    expect(await deleteByPrefix(redis.connection, queuePrefix)).toBe(1);

    expect(await there.isPaused()).toMatchObject({ paused: true, by: "oncall", reason: "bad deploy" });
    expect(await redis.connection.hget(pauseKey(queuePrefix), "paused")).toBe("1");
  });

  it("reads paused when Redis has no copy and Postgres cannot be read (fails closed), and caches no guess", async () => {
    const { queuePrefix } = await fresh();
    const proxy = await startTcpProxy("127.0.0.1", Number(new URL(db.url).port || 5432));
    const unreachable = createPrisma(proxy.urlThrough(db.url));
    try {
      proxy.cut();
      const blind = createPauseSwitch(redis.connection, { queuePrefix, prisma: unreachable });
      const state = await blind.isPaused();
      expect(state.paused).toBe(true);
      expect(state.reason).toMatch(/cannot be read from Postgres/);
      expect(await redis.connection.exists(pauseKey(queuePrefix))).toBe(0);
    } finally {
      await unreachable.$disconnect();
      await proxy.close();
    }
  });

  it("records a pause whose Redis write fails, says so, and every reader without a copy still reads paused", async () => {
    const { queuePrefix, there } = await fresh();
    const proxy = await startTcpProxy("127.0.0.1", Number(new URL(redis.url).port || 6379));
    proxy.cut();
    const deadRedis = new Redis(proxy.urlThrough(redis.url), { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    deadRedis.on("error", () => undefined);
    try {
      const cutOff = createPauseSwitch(deadRedis, { queuePrefix, prisma: db.prisma });
      const change = await cutOff.pause("oncall", "redis is flaky but stop now");
      expect(change.propagated).toBe(false);
      expect(change.propagationError).toBeTruthy();
      expect(await record()).toMatchObject({ on: true, by: "oncall" });
      expect(await there.isPaused()).toMatchObject({ paused: true, reason: "redis is flaky but stop now" });
    } finally {
      deadRedis.disconnect();
      await proxy.close();
    }
  });
});

describe("POST /v1/pause", () => {
  let world: ApiWorld;
  beforeAll(async () => {
    world = await createApiWorld({ name: "pause-test", shared: { db, redis, prefix: `${redis.prefix}-api` } });
  });
  afterAll(async () => {
    await world.close();
  });
  const admin = () => ({ authorization: `Bearer ${world.tokens.admin}` });

  it("refuses a reason with a NUL (400) and changes neither the switch, its record nor the audit", async () => {
    await db.pool.query("DELETE FROM control_switches");
    const mark = await auditMark();
    const res = await world.app.inject({ method: "POST", url: "/v1/pause", headers: admin(), payload: { paused: true, reason: "stop\u0000 now" } });
    expect(res.statusCode).toBe(400);
    expect(await record()).toBeUndefined();
    expect(await pauseAudit(mark)).toEqual([]);
    expect(await redis.connection.exists(pauseKey(`${redis.prefix}-api`))).toBe(0);
    const state = await world.app.inject({ method: "GET", url: "/v1/pause", headers: admin() });
    expect(state.json()).toEqual({ paused: false });
  });

  it("leaves the pause row and its audit event naming the token after a pause", async () => {
    const mark = await auditMark();
    const res = await world.app.inject({ method: "POST", url: "/v1/pause", headers: admin(), payload: { paused: true, reason: "investigating" } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ paused: true, by: "token:t-admin", reason: "investigating" });
    expect(await record()).toEqual({ on: true, by: "token:t-admin", reason: "investigating" });
    expect(await pauseAudit(mark)).toEqual([{ actor: "token:t-admin", action: "workers.paused", detail: { reason: "investigating", via: "api" } }]);
  });

  it("answers 503 when the change is recorded but Redis's copy could not be updated, and the record holds", async () => {
    await db.pool.query("DELETE FROM control_switches");
    const queuePrefix = `${redis.prefix}-api503`;
    const proxy = await startTcpProxy("127.0.0.1", Number(new URL(redis.url).port || 6379));
    const deadRedis = new Redis(proxy.urlThrough(redis.url), { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    deadRedis.on("error", () => undefined);
    proxy.cut();
    const app = await buildApp(
      {
        prisma: db.prisma,
        queues: createQueues(redis.connection, queuePrefix),
        pause: createPauseSwitch(deadRedis, { queuePrefix, prisma: db.prisma, via: "api" }),
        policy: loadPolicyFile("policy/default.yaml"),
        logger: createLogger({ level: "silent", name: "pause-503" }),
        checks: {},
      },
      { bodyLimit: 65_536, rateLimitPerMinute: 10_000, fourEyes: false },
    );
    try {
      const { token } = await createToken(db.prisma, "t-admin-503", "admin");
      const res = await app.inject({ method: "POST", url: "/v1/pause", headers: { authorization: `Bearer ${token}` }, payload: { paused: true, reason: "contain the blast" } });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ error: "recorded_not_propagated" });
      expect(await record()).toEqual({ on: true, by: "token:t-admin-503", reason: "contain the blast" });
      // A worker on a healthy Redis, which has no copy, reads the record.
      expect(await createPauseSwitch(redis.connection, { queuePrefix, prisma: db.prisma }).isPaused()).toMatchObject({ paused: true });
    } finally {
      await app.close();
      deadRedis.disconnect();
      await proxy.close();
    }
  });
});

describe("scripts/pause.ts", () => {
  it("refuses to change the switch without DATABASE_URL (exit 2, one line saying why), leaving Redis untouched", async () => {
    const queuePrefix = `${redis.prefix}-cli-nodb`;
    const run = await runScript(["pause", "--by", "carol", "--reason", "game day"], { DATABASE_URL: "", REDIS_URL: redis.url, QUEUE_PREFIX: queuePrefix });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^DATABASE_URL is not set/)]);
    expect(await redis.connection.exists(pauseKey(queuePrefix))).toBe(0);
  });

  it("records the row and an audit event by the named person, then updates Redis", async () => {
    await db.pool.query("DELETE FROM control_switches");
    const mark = await auditMark();
    const queuePrefix = `${redis.prefix}-cli`;
    const run = await runScript(["pause", "--by", "carol", "--reason", "game day"], { DATABASE_URL: db.url, REDIS_URL: redis.url, QUEUE_PREFIX: queuePrefix });
    expect(run.code, run.stderr).toBe(0);
    expect(await record()).toEqual({ on: true, by: "carol", reason: "game day" });
    expect(await pauseAudit(mark)).toEqual([{ actor: "carol", action: "workers.paused", detail: { reason: "game day", via: "cli" } }]);
    expect(await redis.connection.hget(pauseKey(queuePrefix), "paused")).toBe("1");
  });
});

/** Runs scripts/pause.ts as `npm run pause` does (tsx), with arguments (spawnTs takes none). */
function runScript(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/pause.ts", ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("close", (code) => {
      resolve({ code, stderr });
    });
  });
}
