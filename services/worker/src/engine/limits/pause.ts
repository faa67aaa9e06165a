import type { LimitsRedis } from "./script.js";

export interface PauseState {
  paused: boolean;
  /** Who paused, or, once resumed, who resumed. */
  by?: string;
  /** Why it was paused; absent once resumed. */
  reason?: string;
  /** ISO time of the last pause or resume. */
  since?: string;
}

/**
 * The global kill switch: while paused, the engine starts no step in any worker process. It is
 * checked before every step, so a pause takes effect within one step, not after a whole
 * playbook; steps already running finish (each is idempotent and verified).
 */
export interface PauseSwitch {
  isPaused(): Promise<PauseState>;
  pause(by: string, reason: string): Promise<void>;
  resume(by: string): Promise<void>;
}

/** Bounds what a caller can store: these land in Redis and in every "paused" log line. */
const MAX_TEXT = 500;

export function createPauseSwitch(redis: LimitsRedis, { prefix }: { prefix: string }): PauseSwitch {
  // One hash, no TTL: a pause holds until someone resumes it, across worker restarts.
  const key = `${prefix}:pause`;

  return {
    async isPaused() {
      const fields = await redis.hgetall(key);
      const state: PauseState = { paused: fields.paused === "1" };
      if (fields.by !== undefined) state.by = fields.by;
      if (fields.reason !== undefined) state.reason = fields.reason;
      if (fields.since !== undefined) state.since = fields.since;
      return state;
    },

    async pause(by, reason) {
      check("by", by);
      check("reason", reason);
      await redis.hset(key, { paused: "1", by, reason, since: new Date().toISOString() });
    },

    async resume(by) {
      check("by", by);
      // One transaction, so no reader sees "resumed" with the pause's reason still attached.
      await redis.multi().hset(key, { paused: "0", by, since: new Date().toISOString() }).hdel(key, "reason").exec();
    },
  };
}

function check(name: string, value: string): void {
  if (value.trim() === "") throw new Error(`${name} must not be empty`);
  if (value.length > MAX_TEXT) throw new Error(`${name} must be at most ${MAX_TEXT} characters`);
}
