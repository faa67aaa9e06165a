// `npm run pause -- --by alice --reason "investigating false positives"` / `npm run resume -- --by alice`
// / `npm run pause -- --status`: the global kill switch every worker checks before each step.
import { parseArgs } from "node:util";
import { createRedis } from "@gdr/core/queues/redis";
import { createPauseSwitch, limitsPrefix } from "../services/worker/src/engine/limits/index.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { by: { type: "string" }, reason: { type: "string" }, status: { type: "boolean", default: false } },
});
const command = positionals[0];
const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
const prefix = process.env["QUEUE_PREFIX"] ?? "gdr";
const redis = createRedis(redisUrl, "worker");
try {
  const pause = createPauseSwitch(redis, { prefix: limitsPrefix(prefix) });
  if (command === "pause" && !values.status) {
    if (!values.by || !values.reason) throw new Error("pause needs --by <who> and --reason <why>");
    await pause.pause(values.by, values.reason);
  } else if (command === "resume") {
    if (!values.by) throw new Error("resume needs --by <who>");
    await pause.resume(values.by);
  } else if (command !== "pause") {
    throw new Error("usage: pause.ts pause|resume [--by who] [--reason why] [--status]");
  }
  console.log(JSON.stringify(await pause.isPaused()));
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 2;
} finally {
  redis.disconnect();
}
