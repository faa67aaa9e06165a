// `npm run pause -- --by alice --reason "investigating false positives"` / `npm run resume -- --by alice`
// / `npm run pause -- --status`: the global kill switch every worker checks before each step.
// Like POST /v1/pause, a change is recorded in Postgres with its audit event before Redis's copy
// changes, so this needs DATABASE_URL as well as REDIS_URL and QUEUE_PREFIX.
import { parseArgs } from "node:util";
import { createPauseSwitch } from "@gdr/core/control/pause";
import { createPrisma } from "@gdr/core/db/client";
import { createRedis } from "@gdr/core/queues/redis";

const USAGE = "usage: pause.ts pause|resume --by <who> [--reason <why>] | pause.ts pause --status";

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { by: { type: "string" }, reason: { type: "string" }, status: { type: "boolean", default: false } },
  });
  const command = positionals[0];
  if (command !== "pause" && command !== "resume") throw new Error(USAGE);
  if (command === "pause" && !values.status && (!values.by || !values.reason)) throw new Error("pause needs --by <who> and --reason <why>");
  if (command === "resume" && !values.by) throw new Error("resume needs --by <who>");
  const databaseUrl = process.env["DATABASE_URL"];
  if (!databaseUrl) {
    throw new Error("DATABASE_URL is not set: the kill switch is recorded in Postgres (with an audit event) before Redis; set it to the responder's database");
  }
  // Commands wait for the connection (offline queue), but fail after one retry rather than hang on a dead Redis.
  const redis = createRedis(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379", "producer", { enableOfflineQueue: true });
  // A dead Redis must not crash the process on an unhandled 'error' event: the calls below report it.
  redis.on("error", () => undefined);
  const prisma = createPrisma(databaseUrl);
  try {
    const pause = createPauseSwitch(redis, { queuePrefix: process.env["QUEUE_PREFIX"] ?? "gdr", prisma, via: "cli" });
    if (values.status) {
      console.log(JSON.stringify(await pause.isPaused()));
      return 0;
    }
    const by = values.by ?? "";
    const change = command === "pause" ? await pause.pause(by, values.reason ?? "") : await pause.resume(by, values.reason);
    console.log(JSON.stringify(change.state));
    if (!change.propagated) {
      console.error(
        `${command} recorded in Postgres, but Redis could not be updated (${change.propagationError ?? "unknown error"}); workers read the record within 30 seconds; run it again to apply it now`,
      );
      return 3;
    }
    return 0;
  } finally {
    redis.disconnect();
    await prisma.$disconnect();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message.split("\n")[0] : String(err));
    process.exitCode = 2;
  },
);
