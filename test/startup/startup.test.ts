// Start-up failures are loud: each real entry point (node --import tsx, as production runs it)
// started against a dependency that is wrong exits 2 with one line naming the dependency and what
// to do, instead of running and warning forever. After a successful start, an outage is ridden
// out: /readyz answers 503 while Postgres is away and 200 once it is back, and the process stays.
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createToken } from "@gdr/core/auth/tokens";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUrl } from "../support/db-url.js";
import {
  awsTestEnv,
  createTestDatabase,
  createTestRedis,
  freePort,
  spawnTs,
  startMoto,
  startTcpProxy,
  type Moto,
  type TestDatabase,
  type TestRedis,
  type TsChild,
} from "../support/index.js";
import { startPasswordRefusingPostgres } from "./fake-postgres.js";

const ENTRIES = {
  ingest: "services/ingest/src/main.ts",
  worker: "services/worker/src/main.ts",
  api: "services/api/src/main.ts",
  all: "services/all/src/main.ts",
} as const;

let db: TestDatabase;
let redis: TestRedis;
let moto: Moto;
let queueUrl: string;

beforeAll(async () => {
  [db, moto] = await Promise.all([createTestDatabase(), startMoto()]);
  redis = createTestRedis();
  const sqs = new SQSClient(awsTestEnv(moto.endpoint));
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "startup-findings" }))).QueueUrl ?? "";
  sqs.destroy();
});

afterAll(async () => {
  await Promise.allSettled([db.drop(), redis.cleanup(), moto.stop()]);
});

/** Everything every service needs, all of it right; a test breaks one thing. */
function env(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...awsTestEnv(moto.endpoint).env,
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: redis.prefix,
    SQS_QUEUE_URL: queueUrl,
    LOG_LEVEL: "info",
    INGEST_HTTP_HOST: "127.0.0.1",
    INGEST_HTTP_PORT: "0",
    WORKER_HTTP_HOST: "127.0.0.1",
    WORKER_HTTP_PORT: "0",
    API_HOST: "127.0.0.1",
    API_PORT: "0",
    // Node's own runtime warnings (the AWS SDK's notice about Node 20 support) are not the
    // service's output: without them, what a service prints is all that is asserted.
    NODE_NO_WARNINGS: "1",
    ...overrides,
  };
}

/** Waits for the child to exit; returns its code and every line it printed. */
async function exitOf(child: TsChild): Promise<{ code: number | null; lines: { stream: string; text: string }[] }> {
  const exit = await child.exited;
  // Let readline hand over the last lines.
  await new Promise((resolve) => setImmediate(resolve));
  return { code: exit.code, lines: child.lines.map((l) => ({ stream: l.stream, text: l.text })) };
}

function oneLine(pattern: RegExp) {
  return [{ stream: "stderr", text: expect.stringMatching(pattern) as unknown }];
}

describe("a dependency wrong at start: exit 2 and one line", () => {
  it("worker: Postgres refuses the password", async () => {
    const fake = await startPasswordRefusingPostgres();
    try {
      const url = `postgresql://gdr:not-the-password@127.0.0.1:${fake.port}/guardduty_responder`;
      const result = await exitOf(spawnTs(ENTRIES.worker, env({ DATABASE_URL: url })));
      expect(result.code).toBe(2);
      expect(result.lines).toEqual(oneLine(/^worker: cannot start: postgres: password authentication failed for user "gdr" at Postgres at 127\.0\.0\.1:\d+: fix the password in DATABASE_URL$/));
      expect(JSON.stringify(result.lines)).not.toContain("not-the-password");
    } finally {
      await fake.close();
    }
  });

  it("api: the database does not exist (and it says so, instead of logging nothing)", async () => {
    const missing = databaseUrl(db.url, `${db.name}_missing`);
    const result = await exitOf(spawnTs(ENTRIES.api, env({ DATABASE_URL: missing })));
    expect(result.code).toBe(2);
    expect(result.lines).toEqual(oneLine(new RegExp(`^api: cannot start: postgres: database "${db.name}_missing" does not exist at .*: create it and run the migrations`)));
  });

  it("worker: nothing listens on Redis's port", async () => {
    const deadPort = await freePort();
    const result = await exitOf(spawnTs(ENTRIES.worker, env({ REDIS_URL: `redis://127.0.0.1:${deadPort}` })));
    expect(result.code).toBe(2);
    expect(result.lines).toEqual(oneLine(new RegExp(`^worker: cannot start: redis: cannot reach Redis at 127\\.0\\.0\\.1:${deadPort} \\(ECONNREFUSED\\): check .*REDIS_URL`)));
  });

  it("api: nothing listens on Redis's port", async () => {
    const deadPort = await freePort();
    const result = await exitOf(spawnTs(ENTRIES.api, env({ REDIS_URL: `redis://127.0.0.1:${deadPort}` })));
    expect(result.code).toBe(2);
    expect(result.lines).toEqual(oneLine(/^api: cannot start: redis: cannot reach Redis at/));
  });

  it("ingest: the SQS queue does not exist", async () => {
    const gone = queueUrl.replace(/startup-findings$/, "no-such-queue");
    const result = await exitOf(spawnTs(ENTRIES.ingest, env({ SQS_QUEUE_URL: gone })));
    expect(result.code).toBe(2);
    expect(result.lines).toEqual(oneLine(/^ingest: cannot start: sqs: queue .*no-such-queue does not exist: create it .* or fix SQS_QUEUE_URL$/));
  });

  it("npm start (every service in one process): the database does not exist", async () => {
    const result = await exitOf(spawnTs(ENTRIES.all, env({ DATABASE_URL: databaseUrl(db.url, `${db.name}_missing`) })));
    expect(result.code).toBe(2);
    expect(result.lines).toEqual(oneLine(/^guardduty-responder: cannot start: postgres: database ".*_missing" does not exist/));
  });
});

describe("an outage after a successful start: /readyz 503, no exit", () => {
  it("worker: /readyz answers 503 naming Postgres while it is cut, 200 once it is back", async () => {
    const proxy = await startTcpProxy("127.0.0.1", Number(new URL(db.url).port || 5432));
    const child = spawnTs(ENTRIES.worker, env({ DATABASE_URL: proxy.urlThrough(db.url) }));
    try {
      const port = portOf(await child.waitForLine(/"msg":"worker started"/, 60_000));
      const readyz = async () => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(15_000) });
        return { status: res.status, body: (await res.json()) as { checks: Record<string, { ok: boolean }> } };
      };
      expect((await readyz()).status).toBe(200);
      proxy.cut();
      const down = await readyz();
      expect(down.status).toBe(503);
      expect(down.body.checks["postgres"]?.ok).toBe(false);
      expect(down.body.checks["redis"]?.ok).toBe(true);
      proxy.restore();
      expect((await readyz()).status).toBe(200);
      expect(child.lines.some((l) => l.text.includes("cannot start"))).toBe(false);
    } finally {
      child.kill();
      await child.exited;
      await proxy.close();
    }
  });

  it("api: /readyz answers 503 while Postgres is cut (the token check cannot reach it either)", async () => {
    const { token } = await createToken(db.prisma, "startup-viewer", "viewer");
    const proxy = await startTcpProxy("127.0.0.1", Number(new URL(db.url).port || 5432));
    const child = spawnTs(ENTRIES.api, env({ DATABASE_URL: proxy.urlThrough(db.url) }));
    try {
      const port = portOf(await child.waitForLine(/"msg":"api started"/, 60_000));
      const readyz = async () => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(15_000) });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      expect((await readyz()).status).toBe(200);
      proxy.cut();
      const down = await readyz();
      expect(down.status).toBe(503);
      // The token check itself needs Postgres: the answer is the API's 503 naming it.
      expect(down.body).toMatchObject({ error: "unavailable", message: expect.stringContaining("postgres") as unknown });
      proxy.restore();
      expect((await readyz()).status).toBe(200);
    } finally {
      child.kill();
      await child.exited;
      await proxy.close();
    }
  });
});

function portOf(line: string): number {
  const port = (JSON.parse(line) as { port?: unknown }).port;
  if (typeof port !== "number") throw new Error(`no port in ${line}`);
  return port;
}
