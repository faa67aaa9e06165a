// What every starter of the world does when a start fails half-way.
/** Awaits `started`; if it fails, runs `stop` (best effort: it must tolerate a partial start) and rethrows. */
export async function startOrStop(started: Promise<void>, stop: () => Promise<unknown>): Promise<void> {
  try {
    await started;
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
