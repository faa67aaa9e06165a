import { describe, expect, it } from "vitest";
import { RemediationMode } from "../db/client.js";
import { jobOptions, QUEUE_CATALOG, remediationJobSchema } from "./catalog.js";
import { PLAYBOOKS } from "./playbooks.js";

const good = {
  remediationId: "9b2f3c1e-8a4d-4f6b-9c2d-1e3f5a7b9c0d",
  findingId: "0123456789abcdef0123456789abcdef",
  playbook: "instance",
  mode: "auto",
  accountId: "123456789012",
  region: "us-east-1",
  resourceKey: "i-0123456789abcdef0",
};

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
    expect(remediationJobSchema.parse(good).action).toBe("contain");
    expect(() => remediationJobSchema.parse({ ...good, accountId: "12345678901" })).toThrow();
    expect(() => remediationJobSchema.parse({ ...good, playbook: "rm-rf" })).toThrow();
    expect(() => remediationJobSchema.parse({ ...good, region: "us-east-1.evil.example" })).toThrow();
    expect(() => remediationJobSchema.parse({ ...good, findingId: "not-a-finding-id" })).toThrow();
    expect(() => remediationJobSchema.parse({ ...good, mode: "yolo" })).toThrow();
  });

  it("takes every region findings/patterns.ts takes, the European Sovereign Cloud's included", () => {
    for (const region of ["eusc-de-east-1", "us-gov-west-1", "cn-northwest-1", "ap-southeast-5", "us-isob-east-1"]) {
      expect(remediationJobSchema.parse({ ...good, region }).region).toBe(region);
    }
  });

  it("takes exactly the modes of Prisma's RemediationMode enum", () => {
    for (const mode of Object.values(RemediationMode)) expect(remediationJobSchema.parse({ ...good, mode }).mode).toBe(mode);
    expect(remediationJobSchema.shape.mode.options.slice().sort()).toEqual(Object.values(RemediationMode).sort());
  });
});
