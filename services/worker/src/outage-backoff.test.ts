import { describe, expect, it } from "vitest";
import { outageDelayMs, outagesOf, withOutages } from "./outage-backoff.js";

describe("outage backoff", () => {
  it("doubles from the base up to the cap, keeping between half and all of it", () => {
    const opts = { baseMs: 1_000, maxMs: 30_000 };
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => outageDelayMs(n, opts, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(outageDelayMs(3, opts, () => 0)).toBe(2_000);
    expect(outageDelayMs(1_000, opts, () => 0.5)).toBe(22_500);
  });

  it("counts outages on the job data without touching the payload", () => {
    const data = { remediationId: "r", action: "contain" };
    expect(outagesOf(data)).toBe(0);
    const next = withOutages(data, outagesOf(data) + 1);
    expect(next).toEqual({ remediationId: "r", action: "contain", outages: 1 });
    expect(outagesOf(next)).toBe(1);
    expect(outagesOf({ outages: "7" })).toBe(0);
    expect(outagesOf(null)).toBe(0);
  });
});
