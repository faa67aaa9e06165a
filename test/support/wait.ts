export interface WaitOptions {
  /** How many times to ask before giving up; bounded, so a broken condition fails the test. */
  attempts?: number;
  intervalMs?: number;
  /** Finishes the sentence "timed out waiting for …". */
  what?: string;
}

/**
 * Polls `condition` until it returns true. For state that another process changes and that sends
 * no event (rows in Postgres, keys in Redis, a server starting to answer). An error thrown by the
 * condition ends the wait at once.
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  { attempts = 100, intervalMs = 100, what = "a condition" }: WaitOptions = {},
): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out waiting for ${what} (${attempts} attempts, ${intervalMs} ms apart)`);
}
