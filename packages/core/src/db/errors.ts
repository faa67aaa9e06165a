/**
 * Messages node-postgres gives the errors of a lost or refused connection. They carry no `code`
 * (pg creates them with `new Error(message)`; lib/client.js, pg-pool/index.js), so the fixed
 * strings are all there is to recognise them by. Seen through Prisma's pg adapter when the
 * server goes away mid-query: "Connection terminated unexpectedly".
 */
const PG_CONNECTION_MESSAGES = new Set([
  "Connection terminated unexpectedly",
  "Connection terminated",
  "Connection terminated due to connection timeout",
  "Client has encountered a connection error and is not queryable",
  "timeout exceeded when trying to connect",
  "timeout expired",
]);

/** Node socket errors: the server or the network is away. */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

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
    if (SOCKET_CODES.has(code)) return true;
    // Prisma: can't reach server, timed out, closed, pool timeout, transaction API errors.
    if (["P1001", "P1002", "P1008", "P1017", "P2024", "P2028", "P2034"].includes(code)) return true;
  }
  if (code === undefined && PG_CONNECTION_MESSAGES.has(err.message)) return true;
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err && isTransientDbError(cause);
}

/**
 * Redis error replies a server gives while it cannot serve for now (loading its data after a
 * restart, a replica promoted or demoted during a failover, a cluster resharding). The first word
 * of a Redis error reply is its error code, part of the protocol.
 */
const REDIS_TRANSIENT_REPLIES = new Set(["LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY"]);

/**
 * Whether an error says Redis could not be reached (or cannot serve for now), rather than that a
 * command was wrong. ioredis names some (MaxRetriesPerRequestError), gives others only a fixed
 * message ("Connection is closed.", the offline-queue refusal of producer connections), and
 * passes Node socket errors through; BullMQ wraps a closed connection in ConnectionClosedError.
 */
export function isRedisConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === "MaxRetriesPerRequestError" || err.name === "ConnectionClosedError") return true;
  if (err.message === "Connection is closed." || err.message.startsWith("Stream isn't writeable")) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && SOCKET_CODES.has(code)) return true;
  if (err.name === "ReplyError" && REDIS_TRANSIENT_REPLIES.has(err.message.split(" ", 1)[0] ?? "")) return true;
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err && isRedisConnectionError(cause);
}

/**
 * Which piece of our own infrastructure an error says is away: Postgres, Redis, or neither. An
 * AWS SDK error (it carries `$metadata`) is never ours, even when its socket code is the same as
 * a database's: AWS being unreachable is the AWS layer's business.
 */
export function unavailableInfrastructure(err: unknown): "postgres" | "redis" | null {
  if (typeof err === "object" && err !== null && "$metadata" in err) return null;
  if (isTransientDbError(err)) return "postgres";
  if (isRedisConnectionError(err)) return "redis";
  return null;
}
