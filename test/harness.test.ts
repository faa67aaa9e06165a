// Checks the test harness itself on the real services: if these fail, every other integration
// test would fail for reasons that have nothing to do with the code under test.
import { CreateQueueCommand, ListQueuesCommand, SQSClient, SQSServiceException } from "@aws-sdk/client-sqs";
import { createServer } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgConfigFromUrl } from "../packages/core/src/db/pg-config.js";
import {
  awsTestEnv,
  createTestDatabase,
  createTestRedis,
  startAwsProxy,
  startMoto,
  startTcpProxy,
  spawnTs,
  waitUntil,
  type Moto,
  type TestDatabase,
  type TestRedis,
} from "./support/index.js";
import { createWorld } from "./support/world/index.js";

let db: TestDatabase;
let redis: TestRedis;
let moto: Moto;

beforeAll(async () => {
  [db, moto] = await Promise.all([createTestDatabase(), startMoto()]);
  redis = createTestRedis();
});

afterAll(async () => {
  await Promise.allSettled([db.drop(), redis.cleanup(), moto.stop()]);
});

describe("database", () => {
  it("is a copy of the migrated template", async () => {
    const { rows } = await db.pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    );
    expect(rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        "findings",
        "ingest_receipts",
        "remediations",
        "remediation_steps",
        "approvals",
        "audit_events",
        "api_tokens",
        "outbox",
        "_prisma_migrations",
      ]),
    );
    expect(await db.prisma.finding.count()).toBe(0);
  });

  it("refuses to change audit events", async () => {
    const event = await db.prisma.auditEvent.create({ data: { actor: "test", action: "harness.check" } });
    await expect(db.pool.query("UPDATE audit_events SET actor = 'x' WHERE id = $1", [event.id])).rejects.toThrow(
      /append-only/,
    );
    await expect(db.pool.query("DELETE FROM audit_events WHERE id = $1", [event.id])).rejects.toThrow(/append-only/);
  });
});

describe("redis", () => {
  it("cleans up every key under its prefix and nothing else", async () => {
    const outside = `gdr-harness-outside-${redis.prefix}`;
    await redis.connection.set(outside, "1");
    await redis.connection.set(`${redis.prefix}:a`, "1");
    await redis.connection.hset(`${redis.prefix}:queue:b`, "f", "v");
    const other = createTestRedis();
    await other.cleanup();
    expect(await redis.connection.keys(`${redis.prefix}*`)).toHaveLength(2);

    const probe = createTestRedis();
    const { deleteByPrefix } = await import("./support/redis.js");
    expect(await deleteByPrefix(probe.connection, redis.prefix)).toBe(2);
    expect(await probe.connection.exists(outside)).toBe(1);
    await probe.connection.del(outside);
    await probe.cleanup();
  });
});

describe("moto", () => {
  it("serves SQS, and reset forgets everything", async () => {
    const sqs = new SQSClient(awsTestEnv(moto.endpoint));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "harness" }));
    expect(QueueUrl).toMatch(/harness$/);
    expect((await sqs.send(new ListQueuesCommand({}))).QueueUrls).toHaveLength(1);
    await moto.reset();
    expect((await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? []).toHaveLength(0);
    sqs.destroy();
  });

  it("never points a client at anything but this machine", () => {
    expect(() => awsTestEnv("https://sqs.us-east-1.amazonaws.com")).toThrow(/only call AWS emulators/);
  });
});

describe("tcp proxy", () => {
  it("cuts Postgres away and brings it back", async () => {
    const target = new URL(db.url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const pool = new pg.Pool({ ...pgConfigFromUrl(proxy.urlThrough(db.url)), connectionTimeoutMillis: 2_000 });
    pool.on("error", () => undefined);
    try {
      expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
      proxy.cut();
      await expect(pool.query("SELECT 1")).rejects.toThrow();
      proxy.restore();
      expect((await pool.query("SELECT 2 AS two")).rows).toEqual([{ two: 2 }]);
    } finally {
      await pool.end();
      await proxy.close();
    }
  });
});

describe("aws proxy", () => {
  it("holds, fails and counts operations", async () => {
    await moto.reset();
    const proxy = await startAwsProxy(moto.endpoint);
    const sqs = new SQSClient({ ...awsTestEnv(proxy.endpoint), maxAttempts: 1 });
    try {
      proxy.fail("CreateQueue", { status: 400, code: "ThrottlingException", times: 1 });
      const failed = await sqs.send(new CreateQueueCommand({ QueueName: "held" })).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(SQSServiceException);
      expect((failed as SQSServiceException).name).toBe("ThrottlingException");
      expect((failed as SQSServiceException).$metadata.httpStatusCode).toBe(400);

      const hold = proxy.hold("CreateQueue");
      const pending = sqs.send(new CreateQueueCommand({ QueueName: "held" }));
      const request = await hold;
      expect(request.operation).toBe("CreateQueue");
      expect(request.service).toBe("sqs");
      expect(hold.held()).toBe(1);
      hold.release();
      expect((await pending).QueueUrl).toMatch(/held$/);

      expect(proxy.count("CreateQueue")).toBe(2);
    } finally {
      sqs.destroy();
      await proxy.close();
    }
  });
});

describe("child processes", () => {
  it("runs a TypeScript entry, reads its lines and sees it exit on SIGTERM", async () => {
    const child = spawnTs("test/support/fixtures/signal-echo.ts", { SIGNAL_ECHO_WORD: "hello" });
    expect(await child.waitForLine(/^ready/)).toBe(`ready pid=${child.pid} env=hello`);
    child.kill("SIGTERM");
    await child.waitForLine((line) => line === "bye");
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });

  it("polls a condition a bounded number of times", async () => {
    let calls = 0;
    await waitUntil(() => ++calls === 3, { intervalMs: 1 });
    expect(calls).toBe(3);
    await expect(waitUntil(() => false, { attempts: 2, intervalMs: 1, what: "nothing" })).rejects.toThrow(
      /timed out waiting for nothing/,
    );
  });
});

describe("world, a start that fails half-way", () => {
  /** TCP sockets this process holds (Redis, Postgres, HTTP listeners): what a leaked service keeps open. */
  const sockets = (): number => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "TCPServerWrap").length;

  it("stops a worker whose start failed after it made its queues and Redis connections (its port was taken)", async () => {
    const world = await createWorld({ moto: false });
    const taken = createServer();
    try {
      await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
      const address = taken.address();
      const port = typeof address === "object" && address ? address.port : 0;
      const env = world.workerEnv({ endpoint: "http://127.0.0.1:9" }, { WORKER_HTTP_PORT: String(port), LOG_LEVEL: "silent" });
      // Every other socket is open and steady before the worker is tried.
      await world.db.pool.query("SELECT 1");
      const before = sockets();
      await expect(world.startWorker(env)).rejects.toThrow(/EADDRINUSE/);
      // Its queues, workers and connections closed without the test (or the world) holding a handle.
      await waitUntil(() => sockets() <= before, { attempts: 100, what: `the failed worker's sockets to close (${sockets()} open, ${before} before)` });
    } finally {
      taken.close();
      await world.close();
    }
  });
});
