// One API under test per file, over the test kit (test/support/world): its own database and Redis
// prefix (or those of a world that also runs ingest and a worker), the app built as server.ts
// builds it (without listening; tests use inject, or listen themselves), and a token per role.
import type { Role } from "@gdr/core/auth/tokens";
import type { RemediationQueues } from "@gdr/core/queues/queues";
import type { FastifyInstance } from "fastify";
import type { TestDatabase, TestRedis } from "../support/index.js";
import { createWorld, startApi, type ApiOptions } from "../support/world/index.js";

export interface ApiWorld {
  db: TestDatabase;
  redis: TestRedis;
  queues: RemediationQueues;
  app: FastifyInstance;
  /** A token per role, named `t-<role>`. */
  tokens: Record<Role, string>;
  close(): Promise<void>;
}

export interface ApiWorldOptions extends ApiOptions {
  /** An existing database and Redis (a world that also runs ingest and a worker); closed by their owner. */
  shared?: { db: TestDatabase; redis: TestRedis; prefix: string };
}

export async function createApiWorld(options: ApiWorldOptions): Promise<ApiWorld> {
  const { shared } = options;
  if (shared) {
    const api = await startApi(shared.db, shared.redis, shared.prefix, options);
    return { db: shared.db, redis: shared.redis, queues: api.queues, app: api.app, tokens: api.tokens, close: () => api.close() };
  }
  const world = await createWorld({ moto: false });
  const api = await world.startApi(options);
  return { db: world.db, redis: world.redis, queues: api.queues, app: api.app, tokens: api.tokens, close: () => world.close() };
}
