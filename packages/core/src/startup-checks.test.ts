import { QueueDoesNotExist, SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { checkStartup, StartupError } from "./startup.js";
import { postgresCheck, redisCheck, sqsQueueCheck } from "./startup-checks.js";

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe("start-up explanations", () => {
  const pg = postgresCheck("postgresql://gdr:s3cret-pw@db.internal:6543/responder");

  it("names Postgres, where, and what to fix, never the password", () => {
    const lines = [
      pg.explain(withCode('password authentication failed for user "gdr"', "28P01")),
      pg.explain(withCode('role "gdr" does not exist', "28000")),
      pg.explain(withCode('database "responder" does not exist', "3D000")),
      pg.explain(withCode("connect ECONNREFUSED 10.0.0.5:6543", "ECONNREFUSED")),
      pg.explain(new AggregateError([withCode("connect ECONNREFUSED ::1:6543", "ECONNREFUSED")], "")),
    ];
    expect(lines).toEqual([
      'postgres: password authentication failed for user "gdr" at Postgres at db.internal:6543: fix the password in DATABASE_URL',
      'postgres: Postgres at db.internal:6543 refused user "gdr" (role "gdr" does not exist): fix the user in DATABASE_URL or grant it access (pg_hba.conf)',
      'postgres: database "responder" does not exist at Postgres at db.internal:6543: create it and run the migrations (npm run db:migrate), or fix its name in DATABASE_URL',
      "postgres: cannot reach Postgres at db.internal:6543 (ECONNREFUSED): check the host and port in DATABASE_URL and that Postgres is running",
      "postgres: cannot reach Postgres at db.internal:6543 (ECONNREFUSED): check the host and port in DATABASE_URL and that Postgres is running",
    ]);
    for (const line of lines) expect(line).not.toContain("s3cret-pw");
  });

  it("tells a refused Redis password from an unreachable Redis", () => {
    const redis = redisCheck("redis://:hunter2@cache.internal:6380");
    expect(redis.explain(withCode("getaddrinfo ENOTFOUND cache.internal", "ENOTFOUND"))).toMatch(/^redis: cannot reach Redis at cache\.internal:6380 \(ENOTFOUND\)/);
    expect(redis.explain(new Error("WRONGPASS invalid username-password pair"))).toMatch(/^redis: Redis at cache\.internal:6380 refused the credentials .*: fix the user or password in REDIS_URL$/);
  });

  it("says the SQS queue does not exist", () => {
    const url = "https://sqs.us-east-1.amazonaws.com/123456789012/findings";
    const sqs = sqsQueueCheck(new SQSClient({ region: "us-east-1" }), url);
    expect(sqs.explain(new QueueDoesNotExist({ message: "gone", $metadata: {} }))).toBe(
      `sqs: queue ${url} does not exist: create it (the EventBridge rule's target) or fix SQS_QUEUE_URL`,
    );
  });
});

describe("checkStartup", () => {
  it("stops at the first failing check with its one-line explanation", async () => {
    const ran: string[] = [];
    const check = (dependency: string, fail: boolean) => ({
      dependency,
      check: () => {
        ran.push(dependency);
        return fail ? Promise.reject(new Error("first\nsecond")) : Promise.resolve();
      },
      explain: (err: unknown) => `${dependency}: ${err instanceof Error ? err.message : ""}`,
    });
    const failure = await checkStartup([check("postgres", false), check("redis", true), check("sqs", false)]).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(StartupError);
    expect(failure).toMatchObject({ dependency: "redis", message: "redis: first second" });
    expect(ran).toEqual(["postgres", "redis"]);
  });

  it("counts a check that never answers as unreachable", async () => {
    const hung = { dependency: "postgres", check: () => new Promise<void>(() => undefined), explain: (err: unknown) => (err instanceof Error ? err.message : "") };
    await expect(checkStartup([hung], 20)).rejects.toMatchObject({ dependency: "postgres", message: "no answer within 20 ms" });
  });
});
