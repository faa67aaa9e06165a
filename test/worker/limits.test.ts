// The worker's limits on a real Redis, with two connections standing in for two worker processes:
// token buckets, resource locks and the isolation cap (the pause switch: test/control/pause.test.ts). Waits are awaited
// events (a bucket's own computed wait, a lock's abort signal, keys observed in Redis), never
// guessed sleeps, and nothing asserts on wall-clock durations.
import {
  bucketTable,
  createIsolationCap,
  createResourceLocks,
  createTokenBucket,
  limitsEnvFields,
  limitsPrefix,
  LockLostError,
  LockTimeoutError,
  type IsolationCap,
  type Lock,
  type ResourceLocks,
  type TokenBucket,
} from "@gdr/worker/engine/limits/index";
import { INSTANCE_FAMILIES } from "@gdr/worker/playbooks/instance/families";
import { Redis } from "ioredis";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRedis, waitUntil, type TestRedis } from "../support/index.js";

let redis: TestRedis;
/** The first "worker process". */
let one: Redis;
/** The second "worker process". */
let two: Redis;
let n = 0;
/** A fresh prefix per test, under the file's own, so tests never see each other's keys. */
const freshPrefix = () => `${redis.prefix}:${++n}`;

beforeAll(() => {
  redis = createTestRedis();
  one = new Redis(redis.url);
  two = new Redis(redis.url);
});

afterAll(async () => {
  await Promise.allSettled([one.quit(), two.quit()]);
  await redis.cleanup();
});

/** The value a test just checked exists; fails the test loudly when it does not. */
function must<T>(value: T | null | undefined, what = "a value"): T {
  if (value === null || value === undefined) throw new Error(`expected ${what}`);
  return value;
}

/** Alternates between the two "processes". */
const either = <T>(pair: readonly [T, T], i: number): T => (i % 2 === 0 ? pair[0] : pair[1]);

/** Counts the scripts a connection runs, to tell sleeping until a token from spinning. */
function countingScripts(connection: Redis): { connection: Redis; calls: () => number } {
  let calls = 0;
  const proxy = new Proxy(connection, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if ((property === "evalsha" || property === "eval") && typeof value === "function") {
        return (...args: unknown[]): unknown => {
          if (property === "evalsha") calls++;
          return Reflect.apply(value, target, args);
        };
      }
      return value;
    },
  });
  return { connection: proxy, calls: () => calls };
}

const slow = { capacity: 10, refillPerSecond: 0.001 };
const allFamilies = (spec: { capacity: number; refillPerSecond: number }) => ({
  "ec2-write": spec,
  "ec2-read": spec,
  autoscaling: spec,
  elbv2: spec,
  guardduty: spec,
});

describe("token bucket", () => {
  it("lets capacity tokens through at once, then says how long until the next", async () => {
    const bucket = createTokenBucket(one, { prefix: freshPrefix(), buckets: allFamilies(slow) });
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await bucket.tryTake("111111111111", "ec2-write"));
    expect(results.every((r) => r.ok)).toBe(true);
    const refused = await bucket.tryTake("111111111111", "ec2-write");
    expect(refused.ok).toBe(false);
    expect(refused.waitMs).toBeGreaterThan(0);
  });

  it("refills with time, never beyond capacity (time stepped by hand)", async () => {
    let now = 1_700_000_000_000;
    const bucket = createTokenBucket(one, {
      prefix: freshPrefix(),
      buckets: allFamilies({ capacity: 2, refillPerSecond: 1 }),
      now: () => now,
    });
    expect((await bucket.tryTake("111111111111", "ec2-write")).ok).toBe(true);
    expect((await bucket.tryTake("111111111111", "ec2-write")).ok).toBe(true);
    expect(await bucket.tryTake("111111111111", "ec2-write")).toEqual({ ok: false, waitMs: 1_000 });
    now += 500;
    expect(await bucket.tryTake("111111111111", "ec2-write")).toEqual({ ok: false, waitMs: 500 });
    now += 500;
    expect(await bucket.tryTake("111111111111", "ec2-write")).toEqual({ ok: true, waitMs: 0 });
    expect((await bucket.tryTake("111111111111", "ec2-write")).ok).toBe(false);
    now += 3_600_000;
    const afterAnHour = [];
    for (let i = 0; i < 3; i++) afterAnHour.push((await bucket.tryTake("111111111111", "ec2-write")).ok);
    expect(afterAnHour).toEqual([true, true, false]);
  });

  it("take() sleeps for the wait the bucket computed (Redis's clock), without spinning", async () => {
    const counted = countingScripts(one);
    const bucket = createTokenBucket(counted.connection, {
      prefix: freshPrefix(),
      buckets: allFamilies({ capacity: 1, refillPerSecond: 20 }),
    });
    expect((await bucket.tryTake("111111111111", "ec2-read")).ok).toBe(true);
    const refused = await bucket.tryTake("111111111111", "ec2-read");
    expect(refused.ok).toBe(false);
    expect(refused.waitMs).toBeGreaterThan(0);
    expect(refused.waitMs).toBeLessThanOrEqual(50);

    const before = counted.calls();
    await bucket.take("111111111111", "ec2-read");
    // One call that finds the bucket empty, one after the computed wait; a third at most when a
    // rounding of Redis's clock lands a hair early. A spinning take would make dozens.
    expect(counted.calls() - before).toBeGreaterThanOrEqual(1);
    expect(counted.calls() - before).toBeLessThanOrEqual(3);
  });

  it("take() stops waiting when its signal aborts", async () => {
    const bucket = createTokenBucket(one, {
      prefix: freshPrefix(),
      buckets: allFamilies({ capacity: 1, refillPerSecond: 0.001 }),
    });
    await bucket.take("111111111111", "ec2-write");
    const controller = new AbortController();
    const waiting = bucket.take("111111111111", "ec2-write", controller.signal);
    await one.ping();
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
  });

  it("keeps accounts and API families apart", async () => {
    const bucket = createTokenBucket(one, {
      prefix: freshPrefix(),
      buckets: allFamilies({ capacity: 1, refillPerSecond: 0.001 }),
    });
    expect((await bucket.tryTake("111111111111", "ec2-write")).ok).toBe(true);
    expect((await bucket.tryTake("111111111111", "ec2-write")).ok).toBe(false);
    expect((await bucket.tryTake("222222222222", "ec2-write")).ok).toBe(true);
    expect((await bucket.tryTake("111111111111", "ec2-read")).ok).toBe(true);
    expect((await bucket.tryTake("111111111111", "autoscaling")).ok).toBe(true);
  });

  it("is one bucket for two processes: 50 concurrent takes on capacity 10 → exactly 10", async () => {
    const prefix = freshPrefix();
    const buckets = [one, two].map((connection) => createTokenBucket(connection, { prefix, buckets: allFamilies(slow) })) as [
      TokenBucket,
      TokenBucket,
    ];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => either(buckets, i).tryTake("111111111111", "ec2-write")),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    expect(results.filter((r) => !r.ok).every((r) => r.waitMs > 0)).toBe(true);
    expect(await redis.connection.keys(`${prefix}:*`)).toEqual([`${prefix}:bucket:ec2-write:111111111111`]);
  });

  it("defaults to EC2 mutating calls as the tightest bucket, below AWS's 50 and 5/s", () => {
    const write = INSTANCE_FAMILIES["ec2-write"];
    if (!write) throw new Error("the Instance playbook declares no ec2-write bucket");
    expect(write.capacity).toBeLessThan(50);
    expect(write.refillPerSecond).toBeLessThan(5);
    for (const spec of Object.values(INSTANCE_FAMILIES)) {
      expect(spec.refillPerSecond).toBeGreaterThanOrEqual(write.refillPerSecond);
    }
  });

  it("reads its EC2 buckets from the environment, with the playbook's defaults", () => {
    const schema = z.object(limitsEnvFields);
    const instance = [{ name: "instance", families: INSTANCE_FAMILIES }];
    expect(bucketTable(instance, schema.parse({}))).toEqual(INSTANCE_FAMILIES);
    const config = schema.parse({ WORKER_EC2_WRITE_PER_SECOND: "1", WORKER_EC2_WRITE_BURST: "5" });
    expect(bucketTable(instance, config)["ec2-write"]).toEqual({ capacity: 5, refillPerSecond: 1 });
    expect(config.WORKER_ISOLATIONS_PER_MINUTE).toBe(30);
    expect(config.WORKER_LOCK_TTL_MS).toBe(30_000);
    expect(schema.safeParse({ WORKER_EC2_WRITE_PER_SECOND: "0" }).success).toBe(false);
    expect(limitsPrefix("{gdr}")).toBe("{gdr}:limits");
  });
});

describe("resource locks", () => {
  it("gives the lock to exactly one of 20 concurrent acquirers on two connections", async () => {
    const prefix = freshPrefix();
    const locks = [one, two].map((connection) => createResourceLocks(connection, { prefix })) as [ResourceLocks, ResourceLocks];
    const got = await Promise.all(Array.from({ length: 20 }, (_, i) => either(locks, i).acquire("i-0123456789abcdef0")));
    expect(got.filter((lock) => lock !== null)).toHaveLength(1);
  });

  it("ignores release and extend by a holder whose lock passed to another", async () => {
    const prefix = freshPrefix();
    const key = `${prefix}:lock:vpc-1`;
    const first = must(await createResourceLocks(one, { prefix }).acquire("vpc-1"), "the first lock");
    await redis.connection.del(key); // as if it had expired
    const second = must(await createResourceLocks(two, { prefix }).acquire("vpc-1"), "the second lock");

    expect(await first.extend()).toBe(false);
    expect(first.signal.reason).toBeInstanceOf(LockLostError);
    expect(await first.release()).toBe(false);
    expect(await redis.connection.exists(key)).toBe(1);

    expect(await second.extend()).toBe(true);
    expect(second.signal.aborted).toBe(false);
    expect(await second.release()).toBe(true);
    expect(await redis.connection.exists(key)).toBe(0);
  });

  it("lets another acquire once the holder's lock expires", async () => {
    const prefix = freshPrefix();
    const holder = await createResourceLocks(one, { prefix, ttlMs: 100 }).acquire("eni-1");
    expect(holder).not.toBeNull();
    const other = createResourceLocks(two, { prefix, ttlMs: 100 });
    expect(await other.acquire("eni-1")).toBeNull();
    let taken: Lock | null = null;
    await waitUntil(async () => (taken = await other.acquire("eni-1")) !== null, {
      intervalMs: 20,
      what: "the expired lock to be free",
    });
    expect(taken).not.toBeNull();
  });

  it("withLock runs critical sections of two processes one at a time, in turn", async () => {
    const prefix = freshPrefix();
    const locks = [one, two].map((connection) => createResourceLocks(connection, { prefix })) as [ResourceLocks, ResourceLocks];
    const events: string[] = [];
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        either(locks, i).withLock(
          "sg-shared",
          async () => {
            inside++;
            most = Math.max(most, inside);
            events.push(`enter ${i}`);
            // Real I/O inside the section, so that others get every chance to barge in.
            for (let k = 0; k < 3; k++) await (i % 2 ? two : one).ping();
            events.push(`leave ${i}`);
            inside--;
          },
          { waitMs: 30_000 },
        ),
      ),
    );
    expect(most).toBe(1);
    expect(events).toHaveLength(16);
    for (let e = 0; e < events.length; e += 2) {
      expect(events[e + 1]).toBe((events[e] ?? "").replace("enter", "leave"));
    }
    expect(await redis.connection.exists(`${prefix}:lock:sg-shared`)).toBe(0);
  });

  it("withLock keeps extending the lock while fn runs past the TTL", async () => {
    const prefix = freshPrefix();
    const key = `${prefix}:lock:i-long`;
    const locks = createResourceLocks(one, { prefix, ttlMs: 600 });
    const rival = createResourceLocks(two, { prefix, ttlMs: 600 });
    const result = await locks.withLock("i-long", async (lock) => {
      // Each rise of the key's remaining TTL is one extension; four of them (every ttl/3)
      // take more than a whole TTL.
      let previous = await redis.connection.pttl(key);
      let extensions = 0;
      await waitUntil(
        async () => {
          const ttl = await redis.connection.pttl(key);
          if (ttl > previous) extensions++;
          previous = ttl;
          return extensions >= 4;
        },
        { intervalMs: 20, attempts: 500, what: "four extensions" },
      );
      expect(await rival.acquire("i-long")).toBeNull();
      expect(lock.signal.aborted).toBe(false);
      return "finished";
    });
    expect(result).toBe("finished");
    expect(await redis.connection.exists(key)).toBe(0);
  });

  it("aborts the lock's signal when the lock is stolen, and never deletes the thief's lock", async () => {
    const prefix = freshPrefix();
    const key = `${prefix}:lock:i-stolen`;
    const locks = createResourceLocks(one, { prefix, ttlMs: 300 });
    const thief = createResourceLocks(two, { prefix, ttlMs: 300 });
    let seen: unknown;
    const outcome = locks.withLock("i-stolen", async (lock) => {
      await redis.connection.del(key);
      expect(await thief.acquire("i-stolen")).not.toBeNull();
      await new Promise((resolve) => {
        lock.signal.addEventListener("abort", resolve, { once: true });
      });
      seen = lock.signal.reason;
      return "acted";
    });
    await expect(outcome).rejects.toBeInstanceOf(LockLostError);
    expect(seen).toBeInstanceOf(LockLostError);
    expect(await redis.connection.exists(key)).toBe(1);
  });

  it("withLock reports a lock that vanished under fn even when fn finished before any extend", async () => {
    const prefix = freshPrefix();
    const locks = createResourceLocks(one, { prefix });
    const outcome = locks.withLock("i-stalled", async () => {
      // As if this process had stalled past the TTL and the key had expired meanwhile.
      await redis.connection.del(`${prefix}:lock:i-stalled`);
      return "acted";
    });
    await expect(outcome).rejects.toBeInstanceOf(LockLostError);
  });

  it("keepAlive counts the lock lost once Redis has not confirmed an extend for a whole TTL", async () => {
    const prefix = freshPrefix();
    const doomed = new Redis(redis.url);
    const lock = must(await createResourceLocks(doomed, { prefix, ttlMs: 200 }).acquire("i-split"), "the lock");
    const stop = lock.keepAlive();
    const aborted = new Promise((resolve) => {
      lock.signal.addEventListener("abort", resolve, { once: true });
    });
    doomed.disconnect(); // every extend now fails, like a worker cut off from Redis
    await aborted;
    stop();
    expect(lock.signal.reason).toBeInstanceOf(LockLostError);
    expect(String(lock.signal.reason)).toMatch(/no extend succeeded within its 200 ms TTL/);
  });

  it("withLock gives up after waitMs, or when its signal aborts, without running fn", async () => {
    const prefix = freshPrefix();
    const holder = must(await createResourceLocks(one, { prefix }).acquire("i-busy"), "the holder's lock");
    const waiter = createResourceLocks(two, { prefix });
    let ran = 0;
    const fn = () => Promise.resolve(++ran);
    await expect(waiter.withLock("i-busy", fn, { waitMs: 100 })).rejects.toBeInstanceOf(LockTimeoutError);

    const controller = new AbortController();
    const waiting = waiter.withLock("i-busy", fn, { waitMs: 60_000, signal: controller.signal });
    await two.ping();
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
    expect(ran).toBe(0);
    expect(await holder.release()).toBe(true);
  });

  it("withLock releases the lock when fn throws, and rethrows", async () => {
    const prefix = freshPrefix();
    const locks = createResourceLocks(one, { prefix });
    await expect(
      locks.withLock("i-fails", () => Promise.reject(new Error("ModifyNetworkInterfaceAttribute failed"))),
    ).rejects.toThrow(/ModifyNetworkInterfaceAttribute failed/);
    expect(await redis.connection.exists(`${prefix}:lock:i-fails`)).toBe(0);
  });
});

describe("isolation cap", () => {
  it("allows perMinute isolations, then says when the next fits", async () => {
    const cap = createIsolationCap(one, { prefix: freshPrefix(), perMinute: 5 });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await cap.tryReserve());
    expect(results.slice(0, 5).every((r) => r.ok && r.retryInMs === 0)).toBe(true);
    const refused = must(results[5], "a sixth result");
    expect(refused.ok).toBe(false);
    expect(refused.retryInMs).toBeGreaterThan(0);
    expect(refused.retryInMs).toBeLessThanOrEqual(60_000);
    expect(await cap.current()).toBe(5);
  });

  it("counts across processes: 20 concurrent reservations on two connections → exactly 5", async () => {
    const prefix = freshPrefix();
    const caps = [one, two].map((connection) => createIsolationCap(connection, { prefix, perMinute: 5 })) as [
      IsolationCap,
      IsolationCap,
    ];
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => either(caps, i).tryReserve()));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(await caps[0].current()).toBe(5);
    expect(await caps[1].current()).toBe(5);
  });
});
