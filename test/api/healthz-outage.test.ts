// Liveness must not depend on Postgres: /healthz answers 200 during a Postgres outage even when the
// probe sends an Authorization header (the rate limiter looks tokens up in Postgres to pick the
// bucket; probes must skip that lookup).
import { createPrisma } from "@gdr/core/db/client";
import { createLogger } from "@gdr/core/log";
import { createPauseSwitch } from "@gdr/core/control/pause";
import { loadPolicyFile } from "@gdr/core/policy/index";
import { closeQueues, createQueues } from "@gdr/core/queues/queues";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../services/api/src/app.js";
import { createTestDatabase, createTestRedis, startTcpProxy, type TestDatabase, type TestRedis } from "../support/index.js";

let db: TestDatabase;
let redis: TestRedis;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
});

afterAll(async () => {
  await Promise.all([db.drop(), redis.cleanup()]);
});

describe("/healthz during a Postgres outage", () => {
  it("answers 200 with or without a token, while a route that needs the token's lookup does not", async () => {
    const proxy = await startTcpProxy("127.0.0.1", Number(new URL(db.url).port || 5432));
    const prisma = createPrisma(proxy.urlThrough(db.url));
    const queues = createQueues(redis.connection, redis.prefix);
    const app = await buildApp(
      {
        prisma,
        queues,
        pause: createPauseSwitch(redis.connection, { queuePrefix: redis.prefix, prisma }),
        policy: loadPolicyFile("policy/default.yaml"),
        logger: createLogger({ level: "silent", name: "healthz-outage" }),
        checks: {},
      },
      { bodyLimit: 65_536, rateLimitPerMinute: 10_000, fourEyes: false },
    );
    try {
      proxy.cut();
      // Well-formed tokens (made up): each would be looked up in Postgres.
      const token = `gdr_${"a".repeat(43)}`;
      const authorization = `Bearer ${token}`;
      const basic = `Basic ${Buffer.from(`probe:${token}`).toString("base64")}`;
      for (const headers of [{}, { authorization }, { authorization: basic }]) {
        const res = await app.inject({ method: "GET", url: "/healthz", headers });
        expect(res.statusCode, `${JSON.stringify(headers)}: ${res.body}`).toBe(200);
        expect(res.json()).toEqual({ status: "ok" });
      }
      // The outage is real: a route that must look the token up cannot answer 200.
      expect((await app.inject({ method: "GET", url: "/v1/pause", headers: { authorization } })).statusCode).not.toBe(200);
    } finally {
      await app.close();
      await closeQueues(queues);
      await prisma.$disconnect();
      await proxy.close();
    }
  });
});
