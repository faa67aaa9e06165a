/**
 * Timestamps in GuardDuty findings. EventBridge delivers `createdAt`, `updatedAt` and
 * `service.eventFirstSeen/eventLastSeen` as ISO-8601 strings; the GuardDuty API's own timestamp
 * type is an epoch number, and copies of findings that went through an SDK (exports, replays) can
 * carry those. Both are accepted.
 *
 * Epoch numbers: seconds or milliseconds, decided by magnitude. Below 1e11 the value is seconds
 * (1e11 s is the year 5138), from 1e11 up it is milliseconds (1e11 ms is March 1973). Every
 * timestamp GuardDuty can produce (it launched in 2017) is three orders of magnitude away from that
 * boundary in either unit, so the guess cannot be wrong for real data. Fractional seconds are fine.
 *
 * Anything that is not a finite number or a strictly formatted, calendar-valid ISO string, or that
 * falls outside 2000-01-01 .. 2100-01-01, is refused: such a value did not come from GuardDuty.
 *
 * Nor does a time in the future: GuardDuty stamps a finding when it writes it, so a timestamp more
 * than MAX_CLOCK_SKEW_MS after the time it is read (received) is refused. Without this, a forged
 * version dated 2099 would be the newest version of its finding for good and every real update
 * after it would be `older_version`. The allowance covers clock skew between AWS and this host.
 */

export const EPOCH_MILLISECONDS_THRESHOLD = 1e11;
export const EARLIEST_TIMESTAMP = Date.UTC(2000, 0, 1);
export const LATEST_TIMESTAMP = Date.UTC(2100, 0, 1);
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;

export type TimestampResult = { ok: true; date: Date } | { ok: false; problem: string };

// YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM), ASCII digits only.
const ISO_8601 =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})$/;

/** `now`: when the value was received (epoch ms); later than now + MAX_CLOCK_SKEW_MS is refused. */
export function parseTimestamp(value: unknown, now: number = Date.now()): TimestampResult {
  const result = parseAny(value);
  if (result.ok && result.date.getTime() > now + MAX_CLOCK_SKEW_MS) {
    return { ok: false, problem: `is more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes in the future (GuardDuty never reports a future time)` };
  }
  return result;
}

function parseAny(value: unknown): TimestampResult {
  if (typeof value === "number") return fromEpoch(value);
  if (typeof value === "string") return fromIso(value);
  return { ok: false, problem: "is neither an ISO-8601 string nor an epoch number" };
}

function fromEpoch(value: number): TimestampResult {
  if (!Number.isFinite(value) || value < 0) {
    return { ok: false, problem: "is not a finite, non-negative epoch number" };
  }
  const ms = value < EPOCH_MILLISECONDS_THRESHOLD ? value * 1000 : value;
  return inRange(Math.round(ms));
}

function fromIso(value: string): TimestampResult {
  const m = ISO_8601.exec(value);
  if (m === null) return { ok: false, problem: "is not an ISO-8601 timestamp like 2024-05-01T12:00:00.000Z" };
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const millis = Number((m[7] ?? "0").padEnd(3, "0").slice(0, 3));
  const zone = m[8] ?? "Z";
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, problem: "is not a calendar date" };
  }
  if (hour > 23 || minute > 59 || second > 59) return { ok: false, problem: "is not a valid time of day" };
  let offsetMinutes = 0;
  if (zone !== "Z") {
    const offHours = Number(zone.slice(1, 3));
    const offMinutes = Number(zone.slice(4, 6));
    if (offHours > 23 || offMinutes > 59) return { ok: false, problem: "has an invalid UTC offset" };
    offsetMinutes = (zone.startsWith("-") ? -1 : 1) * (offHours * 60 + offMinutes);
  }
  return inRange(Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000);
}

function inRange(ms: number): TimestampResult {
  if (!Number.isFinite(ms) || ms < EARLIEST_TIMESTAMP || ms >= LATEST_TIMESTAMP) {
    return { ok: false, problem: "is outside 2000-01-01..2100-01-01" };
  }
  return { ok: true, date: new Date(ms) };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
