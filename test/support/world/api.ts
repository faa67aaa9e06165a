// The API as server.ts builds it (without listening; tests use inject, or listen themselves) on
// a database and a queue prefix, and a token per role.
import { createToken, type Role } from "@gdr/core/auth/tokens";
import { createPauseSwitch } from "@gdr/core/control/pause";
import { createLogger, type Logger } from "@gdr/core/log";
import type { Notifier } from "@gdr/core/notify/index";
import { loadPolicyFile, type Policy } from "@gdr/core/policy/index";
import { closeQueues, createQueues, type RemediationQueues } from "@gdr/core/queues/queues";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../../services/api/src/app.js";
import type { ApiDeps } from "../../../services/api/src/deps.js";
import type { TestDatabase } from "../database.js";
import type { TestRedis } from "../redis.js";
import { startOrStop } from "./start.js";

export interface ApiOptions {
  name: string;
  checks?: ApiDeps["checks"];
  fourEyes?: boolean;
  /** Requests per minute per client address (default: high enough to stay out of the way). */
  rateLimitPerMinute?: number;
  /** Requests per minute per verified token (default: the per-address limit). */
  tokenRateLimitPerMinute?: number;
  /** The policy (default: policy/default.yaml). */
  policy?: Policy;
  /** Where refusals are notified (default: nowhere). */
  notifier?: Notifier;
  /** The app's logger (default: silent). */
  logger?: Logger;
  trustProxy?: boolean | string;
}

export interface RunningApi {
  queues: RemediationQueues;
  app: FastifyInstance;
  /** A token per role, named `t-<role>`. */
  tokens: Record<Role, string>;
  /** Closes the app and its queues (not the database or Redis it was given). Idempotent. */
  close(): Promise<void>;
}

export async function startApi(db: TestDatabase, redis: TestRedis, prefix: string, options: ApiOptions): Promise<RunningApi> {
  const queues = createQueues(redis.connection, prefix);
  // Closed here if the app cannot be built or its tokens made: the caller gets no handle.
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      await app?.close();
      await closeQueues(queues);
    })());
  const tokens: Record<Role, string> = { viewer: "", approver: "", admin: "" };
  await startOrStop(
    (async () => {
      app = await build();
      for (const role of ["viewer", "approver", "admin"] as const) tokens[role] = (await createToken(db.prisma, `t-${role}`, role)).token;
    })(),
    close,
  );
  if (!app) throw new Error("the API app was not built");
  return { queues, app, tokens, close };

  function build(): ReturnType<typeof buildApp> {
    return buildApp(
    {
      prisma: db.prisma,
      queues,
      pause: createPauseSwitch(redis.connection, { queuePrefix: prefix, prisma: db.prisma, via: "api" }),
      policy: options.policy ?? loadPolicyFile("policy/default.yaml"),
      logger: options.logger ?? createLogger({ level: "silent", name: options.name }),
      notifier: options.notifier ?? { notify: () => undefined },
      publicUrl: "http://127.0.0.1:8080",
      checks: options.checks ?? {},
    },
    {
      bodyLimit: 65_536,
      rateLimitPerMinute: options.rateLimitPerMinute ?? 10_000,
      ...(options.tokenRateLimitPerMinute === undefined ? {} : { tokenRateLimitPerMinute: options.tokenRateLimitPerMinute }),
      fourEyes: options.fourEyes ?? false,
      ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    },
  );
  }
}
