import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { LockLostError, LockTimeoutError } from "./errors.js";
import { defineScript, integer, type LimitsRedis } from "./script.js";

/** A mutex held in Redis by one worker process; it expires unless extended. */
export interface Lock {
  readonly key: string;
  /**
   * Aborts, with a LockLostError as its reason, once the lock is known to be lost (an extend
   * found another holder or no key, or no extend succeeded within the TTL). Pass it, combined
   * with the job's own signal (`AbortSignal.any`), to every call made under the lock.
   */
  readonly signal: AbortSignal;
  /** Resets the TTL if this lock still holds the key; false (and `signal` aborts) if not. */
  extend(): Promise<boolean>;
  /** Deletes the key if this lock still holds it; false (and `signal` aborts) if it had expired or passed on. */
  release(): Promise<boolean>;
  /**
   * Extends the lock every ttl/3 until the returned function is called or the lock is released,
   * and aborts `signal` once no extend has succeeded for a whole TTL (Redis unreachable: the key
   * may be gone). For holders that cannot use withLock, e.g. a lock held across a whole job.
   */
  keepAlive(): () => void;
}

export interface WithLockOptions {
  /** How long to wait for another holder to let go; then LockTimeoutError. Default 60 s. */
  waitMs?: number;
  /** Stops the wait (rejects with the signal's abort error); not passed to fn. */
  signal?: AbortSignal;
}

export interface ResourceLocks {
  /** Takes the lock if it is free, once, without waiting. */
  acquire(key: string): Promise<Lock | null>;
  /**
   * Waits for the lock, runs fn holding it, extends it every ttl/3 while fn runs, and always
   * releases it. Rejects with LockLostError if the lock was lost meanwhile, even if fn
   * finished: its work may have overlapped with another holder's and must be checked again.
   */
  withLock<T>(key: string, fn: (lock: Lock) => Promise<T>, options?: WithLockOptions): Promise<T>;
}

export interface ResourceLockOptions {
  /** Key prefix; locks live at `<prefix>:lock:<key>`. */
  prefix: string;
  /** How long a lock outlives a holder that stopped extending it (a crashed worker). */
  ttlMs?: number;
}

// Compare-and-delete and compare-and-pexpire: only the holder's random token may release or
// extend, so a worker whose lock expired can never delete or prolong its successor's lock.
const RELEASE = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);
const EXTEND = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`);

const BACKOFF_START_MS = 20;
const BACKOFF_MAX_MS = 1_000;

export function createResourceLocks(
  redis: LimitsRedis,
  { prefix, ttlMs = 30_000 }: ResourceLockOptions,
): ResourceLocks {
  if (!(Number.isInteger(ttlMs) && ttlMs >= 30)) {
    throw new Error(`ttlMs must be a whole number of at least 30, got ${ttlMs}`);
  }

  async function acquire(key: string): Promise<HeldLock | null> {
    if (key === "") throw new Error("lock key must not be empty");
    const token = randomUUID();
    const sentAt = Date.now();
    const reply = await redis.set(`${prefix}:lock:${key}`, token, "PX", ttlMs, "NX");
    return reply === "OK" ? new HeldLock(redis, key, `${prefix}:lock:${key}`, token, ttlMs, sentAt) : null;
  }

  // Locks have no release notification here (no pub/sub channel or blocking list per key), so a
  // waiter polls: exponential backoff with jitter, from 20 ms up to 1 s between attempts, so
  // waiters in several processes do not retry in lockstep, bounded by waitMs.
  async function waitFor(key: string, waitMs: number, signal: AbortSignal | undefined): Promise<HeldLock> {
    const started = Date.now();
    let backoff = BACKOFF_START_MS;
    for (;;) {
      signal?.throwIfAborted();
      const lock = await acquire(key);
      if (lock) return lock;
      const left = waitMs - (Date.now() - started);
      if (left <= 0) throw new LockTimeoutError(key, waitMs);
      const pause = backoff / 2 + Math.random() * (backoff / 2);
      backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
      await delay(Math.min(left, pause), undefined, signal ? { signal } : {});
    }
  }

  async function withLock<T>(key: string, fn: (lock: Lock) => Promise<T>, options: WithLockOptions = {}): Promise<T> {
    const { waitMs = 60_000, signal } = options;
    const lock = await waitFor(key, waitMs, signal);
    const stopKeepAlive = lock.keepAlive();
    let result: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      result = { ok: true, value: await fn(lock) };
    } catch (error) {
      result = { ok: false, error };
    } finally {
      stopKeepAlive();
    }
    // A release that finds the key not ours aborts the signal: checked below. One that fails
    // (Redis unreachable) leaves the key to expire by itself; the work's outcome matters more.
    await lock.release().catch(() => false);
    if (lock.signal.aborted) {
      const lost = lock.signal.reason as LockLostError;
      if (!result.ok) lost.cause = result.error;
      throw lost;
    }
    if (!result.ok) throw result.error;
    return result.value;
  }

  return { acquire, withLock };
}

class HeldLock implements Lock {
  readonly #controller = new AbortController();
  readonly signal = this.#controller.signal;
  #released = false;
  #extending = false;

  constructor(
    private readonly redis: LimitsRedis,
    readonly key: string,
    private readonly redisKey: string,
    private readonly token: string,
    private readonly ttlMs: number,
    /** When the last SET or extend that succeeded was sent: the key lives at least ttl past it. */
    private confirmedAt: number,
  ) {}

  async extend(): Promise<boolean> {
    if (this.#released || this.signal.aborted) return false;
    const sentAt = Date.now();
    const extended = integer(await EXTEND.run(this.redis, [this.redisKey], [this.token, this.ttlMs]));
    // Released while the extend was on its way: a "not held" answer is then expected.
    if (this.#isReleased()) return false;
    if (extended === 1) {
      this.confirmedAt = sentAt;
      return true;
    }
    this.lose("another holder has it, or it expired");
    return false;
  }

  async release(): Promise<boolean> {
    if (this.#released) return false;
    this.#released = true;
    const deleted = integer(await RELEASE.run(this.redis, [this.redisKey], [this.token]));
    // Not ours any more: it expired between extends (a process stalled longer than the TTL), so
    // whatever ran under it may have overlapped with another holder.
    if (deleted !== 1) this.lose("it had expired or passed to another holder before release");
    return deleted === 1;
  }

  keepAlive(): () => void {
    const timer = setInterval(
      () => {
        if (this.#released || this.signal.aborted) clearInterval(timer);
        else void this.#tick();
      },
      Math.max(10, Math.floor(this.ttlMs / 3)),
    );
    // Never what keeps a process alive: shutdown waits for work, not for a lock's timer.
    timer.unref();
    return () => {
      clearInterval(timer);
    };
  }

  /**
   * One tick of the keep-alive. When Redis does not answer (worker connections retry forever),
   * no extend succeeds; once a whole TTL has passed since the last confirmed one, the key may be
   * gone and another worker may hold it, so the lock counts as lost.
   */
  async #tick(): Promise<void> {
    if (Date.now() - this.confirmedAt >= this.ttlMs) {
      this.lose(`no extend succeeded within its ${this.ttlMs} ms TTL`);
      return;
    }
    if (this.#extending) return;
    this.#extending = true;
    try {
      await this.extend();
    } catch {
      // Transient (connection) errors: the next tick tries again, and the TTL check above
      // decides when it is too late.
    } finally {
      this.#extending = false;
    }
  }

  #isReleased(): boolean {
    return this.#released;
  }

  private lose(detail: string): void {
    if (!this.signal.aborted) this.#controller.abort(new LockLostError(this.key, detail));
  }
}
