// `npm run bench:worker [-- --remediations N --findings N --burst N ...]`: the worker against moto,
// on one Redis and one Postgres, in four phases:
//   1. dry-run throughput through the real worker (createWorkerService), jobs enqueued beforehand;
//   2. the floor for the same durability: a bare BullMQ Worker writing what a dry-run writes;
//   3. a bare no-op BullMQ Worker;
//   4. ingest + worker in auto mode: SQS SendMessage → every interface isolated, paced and burst.
// Then where the time goes (AWS calls, token waits, locks, Postgres statements) and peak RSS.
// Figures and ratios only, no assertions (like bench/ingest.ts).
import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { createPrisma } from "@gdr/core/db/client";
import { createLogger } from "@gdr/core/log";
import { QUEUE_CATALOG } from "@gdr/core/queues/catalog";
import { createRedis } from "@gdr/core/queues/redis";
import { loadWorkerConfig, type WorkerConfig } from "@gdr/worker/config";
import { createTokenBucket, DEFAULT_BUCKETS, limitsPrefix, type BucketSpecs, type TokenBucket } from "@gdr/worker/engine/limits/index";
import { awsTestEnv, deleteByPrefix, startMoto } from "../test/support/index.js";
import { oneAmiFile } from "./worker/fleet.js";
import { bareWorkerMs } from "./worker/floor.js";
import { FIXED_FAMILIES, mib, rssSampler } from "./worker/instrument.js";
import { dryRunPhases } from "./worker/phase-dry-run.js";
import { latencyPhase } from "./worker/phase-latency.js";

const { values } = parseArgs({
  options: {
    remediations: { type: "string", default: "500" },
    "dry-run-instances": { type: "string", default: "20" },
    "noop-jobs": { type: "string", default: "2000" },
    solo: { type: "string", default: "5" },
    findings: { type: "string", default: "100" },
    rate: { type: "string", default: "10" },
    burst: { type: "string", default: "200" },
    vpcs: { type: "string", default: "1" },
    "target-groups": { type: "string", default: "2" },
    concurrency: { type: "string" },
    "fixed-buckets": { type: "string", default: "raised" },
    phases: { type: "string", default: "1,2,3,4" },
    "moto-amis": { type: "string", default: "one" },
  },
});
const num = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${String(values[name])}`);
  return n;
};
const remediations = num("remediations");
const dryRunInstances = num("dry-run-instances");
const noopJobs = num("noop-jobs");
const solo = num("solo");
const pacedCount = num("findings");
const rate = Math.max(1, num("rate"));
const burstCount = num("burst");
const vpcCount = Math.max(1, num("vpcs"));
const targetGroups = num("target-groups");
const phases = new Set(values.phases.split(",").map((s) => s.trim()));
if (values["fixed-buckets"] !== "raised" && values["fixed-buckets"] !== "default") throw new Error("--fixed-buckets must be raised or default");
const raiseFixed = values["fixed-buckets"] === "raised";

const ACCOUNT = "123456789012"; // moto's default account
const databaseUrl = process.env["DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:5432/guardduty_responder_bench";
const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
// Not under "gdr-bench": bench/ingest.ts deletes every key starting with that.
const prefix = "gdr-wbench";
// For the benchmark the worker's own limits must not be what is measured: EC2 buckets at the top
// of what the config accepts, the isolation cap out of the way. Each can be overridden from the
// environment.
const benchEnv = {
  WORKER_EC2_READ_PER_SECOND: process.env["WORKER_EC2_READ_PER_SECOND"] ?? "1000",
  WORKER_EC2_READ_BURST: process.env["WORKER_EC2_READ_BURST"] ?? "1000",
  WORKER_EC2_WRITE_PER_SECOND: process.env["WORKER_EC2_WRITE_PER_SECOND"] ?? "100",
  WORKER_EC2_WRITE_BURST: process.env["WORKER_EC2_WRITE_BURST"] ?? "1000",
  WORKER_ISOLATIONS_PER_MINUTE: process.env["WORKER_ISOLATIONS_PER_MINUTE"] ?? "10000",
  ...(values.concurrency ? { WORKER_CONCURRENCY: values.concurrency } : {}),
};
// The families the environment cannot set (limits-config.ts): the benchmark gives them buckets of
// its own on the same Redis, unless --fixed-buckets default.
const RAISED: BucketSpecs = Object.freeze({
  ...DEFAULT_BUCKETS,
  autoscaling: { capacity: 1000, refillPerSecond: 1000 },
  elbv2: { capacity: 1000, refillPerSecond: 1000 },
  guardduty: { capacity: 1000, refillPerSecond: 1000 },
});

const rss = rssSampler();
const benchStarted = performance.now();
// moto loads its catalogue of public AMIs, each with a snapshot, into every region it touches;
// they make each DescribeSnapshots (three per remediation) cost 80-400 ms there, which AWS does
// not for a query filtered on this remediation's tag. One AMI is enough to launch instances.
const motoAmis = values["moto-amis"] === "default" ? null : await oneAmiFile();
if (motoAmis) process.env["MOTO_AMIS_PATH"] = motoAmis;
const moto = await startMoto();
try {
  const aws = awsTestEnv(moto.endpoint);
  Object.assign(process.env, aws.env);
  const clients = { ec2: new EC2Client(aws), autoscaling: new AutoScalingClient(aws), elbv2: new ElasticLoadBalancingV2Client(aws) };
  const logger = createLogger({ level: "error", name: "bench" });
  const admin = createRedis(redisUrl, "worker");
  await deleteByPrefix(admin, prefix);
  const prisma = createPrisma(databaseUrl);
  await prisma.$executeRawUnsafe("TRUNCATE ingest_receipts, outbox, remediation_steps, approvals, remediations, findings, audit_events RESTART IDENTITY");

  const env = { ...process.env, ...benchEnv, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: "error" };
  const workerConfig: Readonly<WorkerConfig> = loadWorkerConfig({ ...env, WORKER_HTTP_PORT: "0", WORKER_ACCOUNT_ID: ACCOUNT });
  const concurrency = workerConfig.WORKER_CONCURRENCY ?? QUEUE_CATALOG.instance.concurrency;
  const fixedBuckets: TokenBucket | undefined = raiseFixed ? createTokenBucket(admin, { prefix: limitsPrefix(prefix), buckets: RAISED }) : undefined;
  const { limiter } = QUEUE_CATALOG.instance;
  const raised = raiseFixed ? RAISED : undefined;

  console.log(`worker benchmark: moto at ${moto.endpoint}, Postgres ${databaseUrl.replace(/\/\/[^@]*@/, "//")}, Redis ${redisUrl}`);
  console.log(`worker settings   : concurrency ${concurrency}, queue limiter ${limiter.max} jobs / ${limiter.duration} ms (catalog), postpone ${workerConfig.WORKER_POSTPONE_MS} ms`);
  console.log(
    `token buckets     : ec2-read ${workerConfig.WORKER_EC2_READ_PER_SECOND}/s burst ${workerConfig.WORKER_EC2_READ_BURST}, ec2-write ${workerConfig.WORKER_EC2_WRITE_PER_SECOND}/s burst ${workerConfig.WORKER_EC2_WRITE_BURST} (env); ` +
      FIXED_FAMILIES.map((f) => `${f} ${(raiseFixed ? RAISED : DEFAULT_BUCKETS)[f].refillPerSecond}/s burst ${(raiseFixed ? RAISED : DEFAULT_BUCKETS)[f].capacity}`).join(", ") +
      (raiseFixed ? " (not settable by env: raised by the bench, --fixed-buckets default to keep them)" : " (defaults)"),
  );
  console.log(`isolation cap     : ${workerConfig.WORKER_ISOLATIONS_PER_MINUTE} per minute`);
  console.log(`moto              : ${motoAmis ? "one AMI (MOTO_AMIS_PATH) instead of its public AMI catalogue and their snapshots; --moto-amis default to keep them" : "its default AMI catalogue"}`);

  if (phases.has("1")) {
    await dryRunPhases({
      clients,
      prisma,
      config: workerConfig,
      logger,
      accountId: ACCOUNT,
      remediations,
      instances: dryRunInstances,
      targetGroups,
      concurrency,
      fixedBuckets,
      raised,
      withFloor: phases.has("2"),
    });
  }
  if (phases.has("3")) {
    const ms = await bareWorkerMs({ redisUrl, prefix, queueName: "bench-noop", concurrency, payloads: Array.from({ length: noopJobs }, (_, i) => ({ i })), processor: () => Promise.resolve() });
    console.log(`\n3. bare no-op BullMQ Worker, concurrency ${concurrency}: ${((noopJobs / ms) * 1000).toFixed(0).padStart(7)} jobs/s  (${noopJobs} jobs in ${(ms / 1000).toFixed(2)} s)`);
  }
  if (phases.has("4")) {
    await latencyPhase({
      aws,
      clients,
      prisma,
      env,
      config: workerConfig,
      logger,
      accountId: ACCOUNT,
      solo,
      paced: pacedCount,
      rate,
      burst: burstCount,
      vpcs: vpcCount,
      targetGroups,
      fixedBuckets,
      raised,
    });
  }
  console.log(`\nmemory: peak rss ${mib(rss.peak())}; whole run ${((performance.now() - benchStarted) / 1000).toFixed(0)} s`);
  await prisma.$disconnect();
  admin.disconnect();
} finally {
  rss.stop();
  await moto.stop();
  if (motoAmis) await rm(dirname(motoAmis), { recursive: true, force: true });
}
// createWorkerService's stop() leaves the connection it hands each BullMQ Worker open (BullMQ
// never closes a connection it was given), so the process would not end by itself.
process.exit(process.exitCode ?? 0);
