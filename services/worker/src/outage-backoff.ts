/**
 * Backoff for jobs postponed because Postgres or Redis is away. How many times a job was postponed
 * so is kept in its BullMQ data (`outages`), so the delay keeps growing when another worker picks
 * the job up; the payload schema ignores the extra key.
 */

const OUTAGES_KEY = "outages";

/** How many times this job was postponed for an outage so far (0 when never, or unreadable). */
export function outagesOf(data: unknown): number {
  if (typeof data !== "object" || data === null) return 0;
  const n = (data as Record<string, unknown>)[OUTAGES_KEY];
  return typeof n === "number" && Number.isInteger(n) && n > 0 ? n : 0;
}

/** The job's data with the outage count set (a copy). */
export function withOutages(data: unknown, outages: number): Record<string, unknown> {
  return { ...(typeof data === "object" && data !== null ? (data as Record<string, unknown>) : {}), [OUTAGES_KEY]: outages };
}

/**
 * The delay before the `outages`-th try after an outage: base·2^(n−1), capped, with jitter that
 * keeps between half and all of it, so that the jobs of every worker do not all come back in the
 * same instant when the database does.
 */
export function outageDelayMs(outages: number, { baseMs, maxMs }: { baseMs: number; maxMs: number }, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(outages, 1) - 1, 30);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.max(1, Math.round(ceiling / 2 + random() * (ceiling / 2)));
}
