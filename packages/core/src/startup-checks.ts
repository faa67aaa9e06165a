import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { Redis } from "ioredis";
import pg from "pg";
import { pgConfigFromUrl } from "./db/pg-config.js";
import { errorCode, firstLine, isUnreachable, type StartupCheck } from "./startup.js";

/**
 * The start-up checks of the services' dependencies, each with its own connection (closed after),
 * so that a check neither waits on nor leaves behind the reconnect loops of the service's clients.
 * Messages never include a password: only host, port, database, user and queue URL.
 */

/** Postgres: connect with DATABASE_URL's credentials, and find the responder's schema there. */
export function postgresCheck(databaseUrl: string): StartupCheck {
  const config = pgConfigFromUrl(databaseUrl);
  const where = `Postgres at ${config.host ?? "?"}:${config.port ?? 5432}`;
  const database = config.database ?? "?";
  const user = config.user ?? "?";
  return {
    dependency: "postgres",
    async check() {
      const client = new pg.Client({ ...config, connectionTimeoutMillis: 5_000 });
      // A server that drops the connection later must not crash the process on an unhandled event.
      client.on("error", () => undefined);
      try {
        await client.connect();
        const { rows } = await client.query<{ migrated: boolean }>("SELECT to_regclass('remediations') IS NOT NULL AS migrated");
        if (rows[0]?.migrated !== true) throw new SchemaMissing();
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    explain(err) {
      if (err instanceof SchemaMissing) {
        return `postgres: database "${database}" (${where}) has no responder schema: run the migrations (npm run db:migrate) against DATABASE_URL`;
      }
      if (isUnreachable(err)) {
        return `postgres: cannot reach ${where} (${errorCode(err) ?? firstLine(err)}): check the host and port in DATABASE_URL and that Postgres is running`;
      }
      switch (errorCode(err)) {
        case "28P01":
          return `postgres: password authentication failed for user "${user}" at ${where}: fix the password in DATABASE_URL`;
        case "28000":
          return `postgres: ${where} refused user "${user}" (${firstLine(err)}): fix the user in DATABASE_URL or grant it access (pg_hba.conf)`;
        case "3D000":
          return `postgres: database "${database}" does not exist at ${where}: create it and run the migrations (npm run db:migrate), or fix its name in DATABASE_URL`;
        default:
          return `postgres: ${where}, database "${database}", user "${user}": ${firstLine(err)}: check DATABASE_URL`;
      }
    },
  };
}

/** Redis: connect once (no reconnect loop) and PING. */
export function redisCheck(redisUrl: string): StartupCheck {
  const u = new URL(redisUrl);
  const where = `Redis at ${u.hostname || "127.0.0.1"}:${u.port || "6379"}`;
  return {
    dependency: "redis",
    async check() {
      const redis = new Redis(redisUrl, {
        lazyConnect: true,
        connectTimeout: 5_000,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      // connect() rejects with "Connection is closed."; the socket's own error (ECONNREFUSED,
      // ENOTFOUND, WRONGPASS) arrives as an event first and says what is wrong.
      let socketError: Error | undefined;
      redis.on("error", (err: Error) => {
        socketError ??= err;
      });
      try {
        await redis.connect();
        await redis.ping();
      } catch (err) {
        throw socketError ?? err;
      } finally {
        redis.disconnect();
      }
    },
    explain(err) {
      if (isUnreachable(err)) {
        return `redis: cannot reach ${where} (${errorCode(err) ?? firstLine(err)}): check the host and port in REDIS_URL and that Redis is running`;
      }
      const text = firstLine(err);
      if (/^(NOAUTH|WRONGPASS)/.test(text)) return `redis: ${where} refused the credentials (${text}): fix the user or password in REDIS_URL`;
      return `redis: ${where}: ${text}: check REDIS_URL`;
    },
  };
}

/** SQS: the queue exists and this identity may read its attributes (GetQueueAttributes). */
export function sqsQueueCheck(client: SQSClient, queueUrl: string): StartupCheck {
  return {
    dependency: "sqs",
    async check(signal) {
      await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }), { abortSignal: signal });
    },
    explain(err) {
      const name = err instanceof Error ? err.name : "";
      if (name === "QueueDoesNotExist" || name === "AWS.SimpleQueueService.NonExistentQueue") {
        return `sqs: queue ${queueUrl} does not exist: create it (the EventBridge rule's target) or fix SQS_QUEUE_URL`;
      }
      if (name === "AccessDenied" || name === "AccessDeniedException") {
        return `sqs: not allowed to read queue ${queueUrl} (${firstLine(err)}): grant sqs:GetQueueAttributes, sqs:ReceiveMessage, sqs:DeleteMessage and sqs:ChangeMessageVisibility to this identity`;
      }
      if (name === "CredentialsProviderError") {
        return `sqs: no AWS credentials for queue ${queueUrl}: give the process a role or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`;
      }
      if (isUnreachable(err) || name === "TimeoutError" || name === "AbortError") {
        return `sqs: cannot reach the SQS endpoint for ${queueUrl} (${errorCode(err) ?? firstLine(err)}): check AWS_REGION, AWS_ENDPOINT_URL and the network`;
      }
      return `sqs: queue ${queueUrl}: ${name ? `${name}: ` : ""}${firstLine(err)}: check SQS_QUEUE_URL and AWS_REGION`;
    },
  };
}

class SchemaMissing extends Error {}
