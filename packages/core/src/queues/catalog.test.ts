import { describe, expect, it } from "vitest";
import { jobIdFor, jobOptions, QUEUE_CATALOG, remediationJobSchema } from "./catalog.js";
import { PLAYBOOKS } from "./playbooks.js";

describe("jobIdFor", () => {
  const finding = "0123456789abcdef0123456789abcdef";

  it("is deterministic and readable for simple keys", () => {
    expect(jobIdFor("instance", finding, "i-0123456789abcdef0")).toBe(`instance-${finding}-i-0123456789abcdef0`);
    expect(jobIdFor("instance", finding, "i-0123456789abcdef0")).toBe(jobIdFor("instance", finding, "i-0123456789abcdef0"));
  });

  it("never contains ':' (BullMQ's key separator), even for ARNs", () => {
    const arn = "arn:aws:ecs:us-east-1:123456789012:task/payments/9b7fed922ae46504be0ef5e6fa91e146";
    const id = jobIdFor("ecs-task", finding, arn);
    expect(id).not.toContain(":");
    expect(decodeURIComponent(id.slice(`ecs-task-${finding}-`.length))).toBe(arn);
  });

  it("gives different resources different ids (no lossy sanitising)", () => {
    const keys = ["a:b", "a_b", "a/b", "a%3Ab", "a.b", "a-b"];
    const ids = new Set(keys.map((k) => jobIdFor("eks-pod", finding, k)));
    expect(ids.size).toBe(keys.length);
  });

  it("marks continuations apart from the containment job", () => {
    expect(jobIdFor("instance", finding, "i-0123456789abcdef0", "release")).toBe(`instance-${finding}-i-0123456789abcdef0-release`);
  });
});

describe("QUEUE_CATALOG", () => {
  it("has an entry for every playbook, named after it", () => {
    for (const name of PLAYBOOKS) expect(QUEUE_CATALOG[name].name).toBe(name);
  });

  it("builds job options with exponential backoff and bounded history", () => {
    const opts = jobOptions(QUEUE_CATALOG.instance, "x");
    expect(opts.backoff.type).toBe("exponential");
    expect(opts.attempts).toBeGreaterThan(1);
    expect(opts.removeOnComplete.age).toBeGreaterThan(0);
  });

  it("re-validates payloads: an identifier that fails its pattern is refused", () => {
    const good = {
      remediationId: "9b2f3c1e-8a4d-4f6b-9c2d-1e3f5a7b9c0d",
      findingId: "0123456789abcdef0123456789abcdef",
      playbook: "instance",
      mode: "auto",
      accountId: "123456789012",
      region: "us-east-1",
      resourceKey: "i-0123456789abcdef0",
    };
    expect(remediationJobSchema.parse(good).action).toBe("contain");
    expect(() => remediationJobSchema.parse({ ...good, accountId: "12345678901" })).toThrow();
    expect(() => remediationJobSchema.parse({ ...good, playbook: "rm-rf" })).toThrow();
  });
});
