import { describe, expect, it } from "vitest";
import { evidenceJobId, jobIdFor, jobIdOf, jobIdWith, parseJobId, type JobIdParts, type JobRun } from "./job-ids.js";
import { PLAYBOOKS } from "./playbooks.js";

const FINDING = "0123456789abcdef0123456789abcdef";
const HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

const RUNS: JobRun[] = [
  { kind: "contain" },
  { kind: "approved", action: "continue", planHash: HASH.slice(0, 16) },
  { kind: "approved", action: "release", planHash: HASH.slice(0, 16) },
  { kind: "release-request", at: 1_764_900_000_000 },
  { kind: "retry", n: 1 },
  { kind: "retry", n: 12 },
  { kind: "recovery", n: 3 },
];

// Keys that look like the grammar's own parts: a separator, a run suffix, an evidence suffix.
const KEYS = [
  "i-0123456789abcdef0",
  "arn:aws:ecs:eusc-de-east-1:123456789012:task/payments/9b7fed922ae46504be0ef5e6fa91e146",
  "arn:aws-us-gov:iam::123456789012:role/web-retry-1",
  "prod/default/web-recovery-2-evidence",
  "AKIAIOSFODNN7EXAMPLE",
  "a:b",
  "a%3Ab",
  "x-continue-0123456789abcdef",
  "ünïcode key (spaces)",
];

describe("job id grammar", () => {
  it("parses back exactly what built it, for every playbook, run, key and evidence hand-over", () => {
    for (const playbook of PLAYBOOKS) {
      for (const resourceKey of KEYS) {
        for (const run of RUNS) {
          for (const evidence of [false, true]) {
            const id = jobIdWith(jobIdFor(playbook, FINDING, resourceKey), run, { evidence });
            const expected: JobIdParts = { playbook, findingId: FINDING, resourceKey, run, evidence };
            expect(parseJobId(id), id).toEqual(expected);
          }
        }
      }
    }
  });

  it("never holds ':' (BullMQ's key separator), and the key holds no '-'", () => {
    for (const resourceKey of KEYS) {
      const id = jobIdFor("ecs-task", FINDING, resourceKey);
      expect(id).not.toContain(":");
      expect(id.slice(`ecs-task-${FINDING}-`.length)).not.toContain("-");
    }
  });

  it("gives different resources and runs different ids (no lossy sanitising)", () => {
    const ids = KEYS.flatMap((k) => RUNS.map((run) => jobIdWith(jobIdFor("eks-pod", FINDING, k), run)));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("spells each kind as the producers and the tests read it", () => {
    const base = jobIdFor("instance", FINDING, "i-0123456789abcdef0");
    expect(base).toBe(`instance-${FINDING}-i%2D0123456789abcdef0`);
    expect(jobIdOf({ playbook: "instance", findingId: FINDING, resourceKey: "i-0123456789abcdef0" })).toBe(base);
    expect(jobIdWith(base, { kind: "approved", action: "continue", planHash: HASH })).toBe(`${base}-continue-${HASH.slice(0, 16)}`);
    expect(jobIdWith(base, { kind: "release-request", at: 42 })).toBe(`${base}-release-at-42`);
    expect(jobIdWith(base, { kind: "retry", n: 2 })).toBe(`${base}-retry-2`);
    expect(jobIdWith(base, { kind: "recovery", n: 1 })).toBe(`${base}-recovery-1`);
    expect(evidenceJobId(jobIdWith(base, { kind: "recovery", n: 1 }))).toBe(`${base}-recovery-1-evidence`);
  });

  it("refuses to build from what the grammar cannot carry", () => {
    expect(() => jobIdFor("instance", "f-1", "i-1")).toThrow(/finding id/);
    expect(() => jobIdFor("instance", FINDING, "")).toThrow(/empty/);
    const base = jobIdFor("instance", FINDING, "i-1");
    expect(() => jobIdWith(base, { kind: "retry", n: 0 })).toThrow(/positive/);
    expect(() => jobIdWith(base, { kind: "recovery", n: 1.5 })).toThrow(/positive/);
    expect(() => jobIdWith(base, { kind: "approved", action: "continue", planHash: "" })).toThrow(/plan hash/);
    expect(() => jobIdWith(base, { kind: "release-request", at: -1 })).toThrow(/epoch/);
  });

  it("parses nothing that it would not build", () => {
    const base = jobIdFor("instance", FINDING, "i-1");
    for (const id of [
      "",
      `rm-rf-${FINDING}-x`,
      `instance-${FINDING.slice(1)}-x`,
      `instance-${FINDING}-`,
      `${base}-retry-0`,
      `${base}-retry-01`,
      `${base}-continue-0123`,
      `${base}-evidence-evidence`,
      `instance-${FINDING}-%E0%A4%A`,
      `instance-${FINDING}-a%3ab`, // lowercase escape: not how encodeURIComponent spells it
      // An id stored before '-' was encoded in keys: not this grammar's (bases are kept as stored).
      `instance-${FINDING}-i-0123456789abcdef0`,
    ]) {
      expect(parseJobId(id), id).toBeNull();
    }
  });
});
