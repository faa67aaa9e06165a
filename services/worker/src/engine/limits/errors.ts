/** `withLock` waited `waitMs` and another holder still had the lock: worth retrying later. */
export class LockTimeoutError extends Error {
  override readonly name = "LockTimeoutError";
  constructor(
    readonly key: string,
    readonly waitedMs: number,
  ) {
    super(`lock ${key} still held by another worker after waiting ${waitedMs} ms`);
  }
}

/**
 * A held lock is gone: it expired before it could be extended, or someone else holds it now.
 * Whatever ran under it may have overlapped with another holder, so stop acting and retry the
 * work (steps re-check AWS state first, so a retry is harmless).
 */
export class LockLostError extends Error {
  override readonly name = "LockLostError";
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`lock ${key} lost: ${detail}`);
  }
}
