import pg from "pg";
import { Redis } from "ioredis";
import { redactUrl } from "./db-url.js";

export interface Services {
  /** A URL with rights to create and drop databases. */
  databaseUrl: string;
  redisUrl: string;
  /** Where each service came from, for the log line and for what may be cleaned up. */
  databaseSource: Source;
  redisSource: Source;
  stop(): Promise<void>;
}

type Source = "env" | "testcontainers" | "local";

const LOCAL_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres";
const LOCAL_REDIS_URL = "redis://127.0.0.1:6379";
const DOCKER_PROBE_MS = 5_000;

/**
 * Picks Postgres and Redis for the run, each on its own: TEST_DATABASE_URL / TEST_REDIS_URL when
 * set; else containers when a Docker engine answers; else the machine's local servers.
 */
export async function chooseServices(env: NodeJS.ProcessEnv = process.env): Promise<Services> {
  const envDatabase = env["TEST_DATABASE_URL"];
  const envRedis = env["TEST_REDIS_URL"];
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s();
  };

  const useDocker = (!envDatabase || !envRedis) && (await dockerAnswers());
  try {
    let databaseUrl: string;
    let databaseSource: Source;
    if (envDatabase) [databaseUrl, databaseSource] = [envDatabase, "env"];
    else if (useDocker) {
      const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
      const c = await new PostgreSqlContainer("postgres:15-alpine").withUsername("postgres").start();
      stops.push(async () => {
        await c.stop();
      });
      [databaseUrl, databaseSource] = [c.getConnectionUri(), "testcontainers"];
    } else [databaseUrl, databaseSource] = [LOCAL_DATABASE_URL, "local"];

    let redisUrl: string;
    let redisSource: Source;
    if (envRedis) [redisUrl, redisSource] = [envRedis, "env"];
    else if (useDocker) {
      const { RedisContainer } = await import("@testcontainers/redis");
      const c = await new RedisContainer("redis:7-alpine").start();
      stops.push(async () => {
        await c.stop();
      });
      [redisUrl, redisSource] = [c.getConnectionUrl(), "testcontainers"];
    } else [redisUrl, redisSource] = [LOCAL_REDIS_URL, "local"];

    await checkPostgres(databaseUrl, databaseSource);
    await checkRedis(redisUrl, redisSource);
    return { databaseUrl, redisUrl, databaseSource, redisSource, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** True when testcontainers finds a working container runtime within a few seconds. */
async function dockerAnswers(): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const { getContainerRuntimeClient } = await import("testcontainers");
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => { reject(new Error("timed out")); }, DOCKER_PROBE_MS);
    });
    await Promise.race([getContainerRuntimeClient(), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

const hint: Record<Source, string> = {
  env: "check the URL in TEST_DATABASE_URL / TEST_REDIS_URL",
  testcontainers: "the container started but does not answer; check the Docker engine",
  local:
    "start the local server (bash scripts/ensure-services.sh) or point the tests at one with " +
    "TEST_DATABASE_URL / TEST_REDIS_URL (npm test also takes DATABASE_URL / REDIS_URL)",
};

async function checkPostgres(url: string, source: Source): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (err) {
    throw new Error(`Postgres at ${redactUrl(url)} does not answer (${String(err)}): ${hint[source]}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkRedis(url: string, source: Source): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on("error", () => undefined); // the failed connect() below reports it
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis at ${redactUrl(url)} does not answer (${String(err)}): ${hint[source]}`);
  } finally {
    redis.disconnect();
  }
}
