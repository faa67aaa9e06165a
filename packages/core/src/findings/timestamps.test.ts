import { describe, expect, it } from "vitest";
import { MAX_CLOCK_SKEW_MS, parseTimestamp } from "./timestamps.js";

function iso(value: unknown): string {
  const r = parseTimestamp(value);
  if (!r.ok) throw new Error(`expected a timestamp, got: ${r.problem}`);
  return r.date.toISOString();
}

describe("parseTimestamp", () => {
  it("reads ISO-8601 strings as EventBridge delivers them", () => {
    expect(iso("2024-11-05T09:12:44.518Z")).toBe("2024-11-05T09:12:44.518Z");
    expect(iso("2024-11-05T09:12:44Z")).toBe("2024-11-05T09:12:44.000Z");
  });

  it("applies UTC offsets and keeps milliseconds of longer fractions", () => {
    expect(iso("2024-11-05T10:12:44.518123+01:00")).toBe("2024-11-05T09:12:44.518Z");
    expect(iso("2024-11-05T04:42:44-04:30")).toBe("2024-11-05T09:12:44.000Z");
  });

  it("reads epoch numbers: seconds below 1e11, milliseconds above", () => {
    expect(iso(1_730_797_964)).toBe("2024-11-05T09:12:44.000Z");
    expect(iso(1_730_797_964.518)).toBe("2024-11-05T09:12:44.518Z");
    expect(iso(1_730_797_964_518)).toBe("2024-11-05T09:12:44.518Z");
  });

  it.each([
    ["a date without time", "2024-11-05"],
    ["a space instead of T", "2024-11-05 09:12:44Z"],
    ["no zone", "2024-11-05T09:12:44"],
    ["garbage", "yesterday"],
    ["a numeric string", "1730797964"],
    ["fullwidth digits", "２０２４-11-05T09:12:44Z"],
    ["February 30th", "2024-02-30T00:00:00Z"],
    ["hour 24", "2024-11-05T24:00:00Z"],
    ["before 2000", "1999-12-31T23:59:59Z"],
    ["after 2100", "2100-01-01T00:00:00Z"],
    ["a date far in the future (before 2100)", "2099-12-31T23:59:59Z"],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["a negative epoch", -1],
    ["an epoch of 0 (1970)", 0],
    ["a boolean", true],
    ["null", null],
  ])("refuses %s", (_label, value) => {
    expect(parseTimestamp(value).ok).toBe(false);
  });

  it("refuses a time more than the clock-skew allowance after the time received, accepts one within it", () => {
    const received = Date.parse("2025-03-01T10:00:00.000Z");
    const within = new Date(received + MAX_CLOCK_SKEW_MS).toISOString();
    const beyond = new Date(received + MAX_CLOCK_SKEW_MS + 1000).toISOString();
    expect(parseTimestamp(within, received)).toEqual({ ok: true, date: new Date(within) });
    expect(parseTimestamp(beyond, received)).toMatchObject({ ok: false, problem: expect.stringContaining("in the future") as unknown });
    expect(parseTimestamp((received + MAX_CLOCK_SKEW_MS + 1000) / 1000, received).ok).toBe(false);
  });
});
