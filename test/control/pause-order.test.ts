// Two changes of the kill switch commit in Postgres in one order, but their writes of Redis's copy
// can arrive in the other (two API processes, one slowed down between its commit and its write).
// The copy must end as the record did: a late write of an older change never overwrites a newer
// copy (otherwise the copy says running for up to its lifetime while the record says paused).
import { createPauseSwitch, pauseKey } from "@gdr/core/control/pause";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from "../support/index.js";

let db: TestDatabase;
let redis: TestRedis;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
});

afterAll(async () => {
  await Promise.all([db.drop(), redis.cleanup()]);
});

/** The client's writes of the copy (a script, or a MULTI) wait for `hold()` before reaching Redis. */
function heldWrites(client: Redis, hold: () => Promise<void>): Redis {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === "eval") {
        return async (...args: unknown[]) => {
          await hold();
          return (target.eval as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      }
      if (prop === "multi") {
        return () => {
          const multi = target.multi();
          const exec = multi.exec.bind(multi);
          multi.exec = async () => {
            await hold();
            return exec();
          };
          return multi;
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

describe("the kill switch's copy under concurrent changes", () => {
  it("ends paused when a resume then a pause commit in that order but their copy writes land pause first, resume last", async () => {
    const queuePrefix = `${redis.prefix}-order`;
    let reached!: () => void;
    const writeReached = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const slow = createPauseSwitch(
      heldWrites(redis.connection, () => {
        reached();
        return released;
      }),
      { queuePrefix, prisma: db.prisma },
    );
    const fast = createPauseSwitch(redis.connection, { queuePrefix, prisma: db.prisma });

    const resuming = slow.resume("alice", "all clear");
    await writeReached; // the resume is committed in Postgres; its copy write is held
    await fast.pause("bob", "not so fast");
    release();
    expect((await resuming).state).toMatchObject({ paused: false, by: "alice" });

    const { rows } = await db.pool.query<{ on: boolean; by: string }>("SELECT \"on\", by FROM control_switches WHERE name = 'pause'");
    expect(rows).toEqual([{ on: true, by: "bob" }]);
    expect(await redis.connection.hgetall(pauseKey(queuePrefix))).toMatchObject({ paused: "1", by: "bob" });
    expect(await fast.isPaused()).toMatchObject({ paused: true, by: "bob" });
  });
});
