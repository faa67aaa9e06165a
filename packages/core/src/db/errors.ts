/**
 * Whether a database error is worth retrying later (the server or network is away, a
 * serialization conflict or deadlock) rather than a fault in what we asked.
 */
export function isTransientDbError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") {
    // Postgres SQLSTATEs: connection exceptions (08), insufficient resources (53), operator
    // intervention such as admin shutdown (57P), serialization failure and deadlock (40).
    if (/^(08|53|57P|40001|40P01)/.test(code)) return true;
    // Node network errors surfaced by pg.
    if (["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN"].includes(code)) return true;
    // Prisma: can't reach server, timed out, closed, pool timeout, transaction API errors.
    if (["P1001", "P1002", "P1008", "P1017", "P2024", "P2028", "P2034"].includes(code)) return true;
  }
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err && isTransientDbError(cause);
}
