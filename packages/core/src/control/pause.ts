import type { Prisma, PrismaClient } from "../db/client.js";
import type { Redis } from "ioredis";
import { textProblem } from "../text.js";

export interface PauseState {
  paused: boolean;
  /** Who last paused or resumed. */
  by?: string;
  /** Why it was last paused or resumed. */
  reason?: string;
  /** ISO time of the last pause or resume. */
  since?: string;
}

/** What a pause or resume did: it is recorded once this returns; `propagated` says whether Redis's copy followed. */
export interface PauseChange {
  state: PauseState;
  propagated: boolean;
  /** Why Redis's copy could not be updated (the record stands; readers converge within the copy's lifetime). */
  propagationError?: string;
}

/**
 * The global kill switch: while paused, the engine starts no step in any worker process. It is
 * checked before every step, so a pause takes effect within one step; steps already running
 * finish (each is idempotent and verified).
 *
 * Postgres (control_switches, row "pause") is the record; Redis holds a copy that expires, so
 * that every step reads one Redis hash and a lost or stale copy heals from the record. It fails
 * closed: when Redis has no copy and Postgres cannot be read, it reads paused.
 */
export interface PauseSwitch {
  isPaused(): Promise<PauseState>;
  /** Records the pause and its audit event in one transaction, then updates Redis's copy. */
  pause(by: string, reason: string): Promise<PauseChange>;
  resume(by: string, reason?: string): Promise<PauseChange>;
}

export type PauseRedis = Pick<Redis, "hgetall" | "eval">;
export type PauseStore = Pick<PrismaClient, "$transaction" | "$queryRaw" | "controlSwitch" | "auditEvent">;

export interface PauseSwitchOptions {
  /** The deployment's QUEUE_PREFIX; the copy lives at `<QUEUE_PREFIX>:limits:pause`. */
  queuePrefix: string;
  prisma: PauseStore;
  /** How long Redis's copy lives before a reader refreshes it from Postgres. */
  copyTtlMs?: number;
  /** Recorded in the audit event's detail: where the change came from ("api", "cli"). */
  via?: string;
}

/** The record's row in control_switches. */
export const PAUSE_SWITCH = "pause";
/** Bounds what a caller can store: these land in every "paused" log line. */
const MAX_TEXT = 500;
/**
 * Long enough that Postgres sees one read per copy lifetime, not one per step; short enough that a
 * copy left stale by a failed Redis write (a partition between the writer and Redis) heals soon.
 */
const DEFAULT_COPY_TTL_MS = 30_000;

// Writes the copy only if none exists: a reader refreshing from Postgres must not overwrite a
// newer copy that a pause or resume wrote after the reader's Postgres read.
// A pause or resume writes its copy only if the copy present is not newer: two changes commit in
// one order in Postgres but their copy writes can reach Redis in the other, and the copy must
// end as the record did. `order` is the record's `since` in ms, which strictly increases with
// every committed change (see change()). A copy without `order` (an older version's) is replaced.
const WRITE_IF_NEWER = `
local present = redis.call('hget', KEYS[1], 'order')
if present and tonumber(present) ~= nil and tonumber(present) > tonumber(ARGV[2]) then return 0 end
redis.call('del', KEYS[1])
redis.call('hset', KEYS[1], unpack(ARGV, 3))
redis.call('pexpire', KEYS[1], ARGV[1])
return 1`;

const REFRESH_IF_ABSENT = `
if redis.call('exists', KEYS[1]) == 1 then return 0 end
redis.call('hset', KEYS[1], unpack(ARGV, 2))
redis.call('pexpire', KEYS[1], ARGV[1])
return 1`;

/**
 * Where Redis keeps the copy: among the worker's limits (`<QUEUE_PREFIX>:limits`, see the worker's
 * limitsPrefix), so it shares their hash slot when the prefix carries a {hash tag}.
 */
export function pauseKey(queuePrefix: string): string {
  return `${queuePrefix}:limits:pause`;
}

export function createPauseSwitch(redis: PauseRedis, options: PauseSwitchOptions): PauseSwitch {
  const key = pauseKey(options.queuePrefix);
  const ttlMs = options.copyTtlMs ?? DEFAULT_COPY_TTL_MS;
  const { prisma } = options;

  async function readRecord(): Promise<PauseState> {
    const row = await prisma.controlSwitch.findUnique({ where: { name: PAUSE_SWITCH } });
    if (!row) return { paused: false };
    const state: PauseState = { paused: row.on, by: row.by, since: row.since.toISOString() };
    if (row.reason !== null) state.reason = row.reason;
    return state;
  }

  async function change(paused: boolean, by: string, reason: string | undefined): Promise<PauseChange> {
    check("by", by);
    if (reason !== undefined) check("reason", reason);
    const detail: Prisma.InputJsonObject = { reason: reason ?? null, ...(options.via ? { via: options.via } : {}) };
    // Record first: the row and its audit event commit together, or neither does and nothing changed.
    // `since` orders the changes as they committed: a concurrent change waits on the row, then
    // takes a time strictly later than the one it waited for (whatever the clocks), so the copy
    // writes below can be ordered by it.
    const [written] = await prisma.$transaction([
      prisma.$queryRaw<{ since: Date }[]>`
        INSERT INTO control_switches (name, "on", by, reason, since)
        VALUES (${PAUSE_SWITCH}, ${paused}, ${by}, ${reason ?? null}, clock_timestamp())
        ON CONFLICT (name) DO UPDATE
          SET "on" = EXCLUDED."on", by = EXCLUDED.by, reason = EXCLUDED.reason,
              since = GREATEST(EXCLUDED.since, control_switches.since + interval '1 millisecond')
        RETURNING since`,
      prisma.auditEvent.create({ data: { actor: by, action: paused ? "workers.paused" : "workers.resumed", detail } }),
    ]);
    const since = new Date(written[0]?.since ?? Date.now());
    const state: PauseState = { paused, by, since: since.toISOString(), ...(reason === undefined ? {} : { reason }) };
    try {
      // One script, so no reader sees a mix of the old and the new copy's fields, and an older
      // change's copy arriving late never overwrites a newer one.
      await redis.eval(WRITE_IF_NEWER, 1, key, ttlMs, since.getTime(), ...Object.entries(copyFields(state)).flat());
      return { state, propagated: true };
    } catch (err) {
      return { state, propagated: false, propagationError: err instanceof Error ? err.message : String(err) };
    }
  }

  return {
    async isPaused() {
      const copy = await redis.hgetall(key);
      if (copy.paused !== undefined) return fromFields(copy);
      let record: PauseState;
      try {
        record = await readRecord();
      } catch (err) {
        // No copy and no record: the worker cannot act safely without its record store anyway.
        const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
        return { paused: true, reason: `the kill switch's record cannot be read from Postgres (${why ?? "unknown error"}); failing closed` };
      }
      await redis.eval(REFRESH_IF_ABSENT, 1, key, ttlMs, ...Object.entries(copyFields(record)).flat());
      return record;
    },
    pause: (by, reason) => change(true, by, reason),
    resume: (by, reason) => change(false, by, reason),
  };
}

function fields(state: PauseState): Record<string, string> {
  const out: Record<string, string> = { paused: state.paused ? "1" : "0" };
  if (state.by !== undefined) out["by"] = state.by;
  if (state.reason !== undefined) out["reason"] = state.reason;
  if (state.since !== undefined) out["since"] = state.since;
  return out;
}

/** The copy: the state plus `order` (the record's `since` in ms) for WRITE_IF_NEWER. */
function copyFields(state: PauseState): Record<string, string> {
  const out = fields(state);
  if (state.since !== undefined) out["order"] = String(Date.parse(state.since));
  return out;
}

function fromFields(copy: Record<string, string>): PauseState {
  const state: PauseState = { paused: copy["paused"] === "1" };
  if (copy["by"] !== undefined) state.by = copy["by"];
  if (copy["reason"] !== undefined) state.reason = copy["reason"];
  if (copy["since"] !== undefined) state.since = copy["since"];
  return state;
}

function check(name: string, value: string): void {
  if (value.trim() === "") throw new Error(`${name} must not be empty`);
  if (value.length > MAX_TEXT) throw new Error(`${name} must be at most ${MAX_TEXT} characters`);
  // Refused before anything is written: Postgres and the logs cannot take it (see text.ts).
  const problem = textProblem(value);
  if (problem) throw new Error(`${name} ${problem}`);
}
