// The worker's bucket table: the union of the playbooks' families and the engine's, one spec per
// family, with the operator's EC2 overrides.
import { StartupError } from "@gdr/core/startup";
import { describe, expect, it } from "vitest";
import { bucketTable, ENGINE_FAMILIES } from "./bucket-table.js";
import { createTokenBucket, UnknownFamilyError } from "./token-bucket.js";
import type { LimitsRedis } from "./script.js";

const instance = { name: "playbook instance", families: { "ec2-write": { capacity: 20, refillPerSecond: 2 }, "ec2-read": { capacity: 40, refillPerSecond: 8 }, guardduty: { capacity: 10, refillPerSecond: 2 } } };
const accessKey = { name: "playbook access-key", families: { "iam-write": { capacity: 5, refillPerSecond: 1 }, "ec2-read": { capacity: 40, refillPerSecond: 8 } } };
const engine = { name: "the engine", families: ENGINE_FAMILIES };

describe("bucketTable", () => {
  it("is the union of every declared family; agreeing declarations of one family are one bucket", () => {
    expect(bucketTable([engine, instance, accessKey])).toEqual({
      guardduty: { capacity: 10, refillPerSecond: 2 },
      "ec2-write": { capacity: 20, refillPerSecond: 2 },
      "ec2-read": { capacity: 40, refillPerSecond: 8 },
      "iam-write": { capacity: 5, refillPerSecond: 1 },
    });
  });

  it("refuses to start when two declarations of one family disagree, naming both", () => {
    const greedy = { name: "playbook eks-pod", families: { "ec2-read": { capacity: 100, refillPerSecond: 20 } } };
    const build = () => bucketTable([engine, instance, greedy]);
    expect(build).toThrow(StartupError);
    expect(build).toThrow('rate bucket "ec2-read" is declared twice with different defaults: playbook instance says 8/s burst 40, playbook eks-pod says 20/s burst 100');
  });

  it("applies the WORKER_EC2_* overrides that are set to the declared EC2 families only", () => {
    const table = bucketTable([engine, instance], { WORKER_EC2_WRITE_PER_SECOND: 1, WORKER_EC2_WRITE_BURST: 5, WORKER_EC2_READ_BURST: 80 });
    expect(table["ec2-write"]).toEqual({ capacity: 5, refillPerSecond: 1 });
    expect(table["ec2-read"]).toEqual({ capacity: 80, refillPerSecond: 8 });
    expect(bucketTable([engine], { WORKER_EC2_WRITE_PER_SECOND: 1 })).toEqual({ guardduty: { capacity: 10, refillPerSecond: 2 } });
  });
});

describe("a token for a family nobody declared", () => {
  it("is refused before Redis is asked: a bug in the step, not a call to send unpaced", async () => {
    const asked: string[] = [];
    const redis = new Proxy({}, { get: (_t, key) => (asked.push(String(key)), () => Promise.reject(new Error("unreachable"))) }) as unknown as LimitsRedis;
    const buckets = createTokenBucket(redis, { prefix: "t", buckets: bucketTable([engine]) });
    await expect(buckets.take("123456789012", "ec2-write")).rejects.toBeInstanceOf(UnknownFamilyError);
    await expect(buckets.take("123456789012", "ec2-write")).rejects.toThrow('no rate bucket for API family "ec2-write": no playbook declares it (declared: guardduty)');
    expect(asked).toEqual([]);
  });
});
