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
import { createTokenBucket, limitsPrefix, type BucketSpecs, type TokenBucket } from "@gdr/worker/engine/limits/index";
import { INSTANCE_FAMILIES } from "@gdr/worker/playbooks/instance/families";
import { awsTestEnv, deleteByPrefix, startMoto, type AwsTestEnv, type SeedClients } from "../test/support/index.js";
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
  ...INSTANCE_FAMILIES,
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

/**
 * Runs `fn` against a moto server of its own. moto answers from in-memory lists that it mostly
 * scans per call, so it slows down as resources pile up (snapshots, targets, groups); AWS does
 * not. A fresh server per part keeps one part's leftovers from slowing the next.
 */
async function withMoto<T>(fn: (aws: AwsTestEnv, clients: SeedClients, env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
  const moto = await startMoto();
  try {
    const aws = awsTestEnv(moto.endpoint);
    // The SDK's default credential chain reads the environment: give it moto's fake credentials.
    Object.assign(process.env, aws.env);
    const clients = { ec2: new EC2Client(aws), autoscaling: new AutoScalingClient(aws), elbv2: new ElasticLoadBalancingV2Client(aws) };
    try {
      // moto has no GuardDuty GetFindings: the confirmation gate is off against the emulator
      // (allowed because aws.env points AWS_ENDPOINT_URL at it).
      return await fn(aws, clients, { ...baseEnv, ...aws.env, WORKER_CONFIRM_FINDINGS: "false" });
    } finally {
      clients.ec2.destroy();
      clients.autoscaling.destroy();
      clients.elbv2.destroy();
    }
  } finally {
    await moto.stop();
  }
}

const baseEnv: NodeJS.ProcessEnv = {
  ...process.env,
  ...benchEnv,
  AWS_REGION: "us-east-1",
  DATABASE_URL: databaseUrl,
  REDIS_URL: redisUrl,
  QUEUE_PREFIX: prefix,
  LOG_LEVEL: "error",
  WORKER_HTTP_PORT: "0",
  WORKER_ACCOUNT_ID: ACCOUNT,
};
const configFor = (env: NodeJS.ProcessEnv): Readonly<WorkerConfig> => loadWorkerConfig(env);

try {
  const logger = createLogger({ level: "error", name: "bench" });
  const admin = createRedis(redisUrl, "worker");
  await deleteByPrefix(admin, prefix);
  const prisma = createPrisma(databaseUrl);
  // The benchmarks' own database: every run starts empty, as bench/ingest.ts does.
  await prisma.$executeRawUnsafe("TRUNCATE ingest_receipts, outbox, remediation_steps, approvals, remediations, findings, audit_events RESTART IDENTITY");

  const settings = configFor(baseEnv);
  const concurrency = settings.WORKER_CONCURRENCY ?? QUEUE_CATALOG.instance.concurrency;
  const fixedBuckets: TokenBucket | undefined = raiseFixed ? createTokenBucket(admin, { prefix: limitsPrefix(prefix), buckets: RAISED }) : undefined;
  const { limiter } = QUEUE_CATALOG.instance;
  const raised = raiseFixed ? RAISED : undefined;

  console.log(`worker benchmark: Postgres ${databaseUrl.replace(/\/\/[^@]*@/, "//")}, Redis ${redisUrl}, QUEUE_PREFIX ${prefix}`);
  console.log(`worker settings   : concurrency ${concurrency}, queue limiter ${limiter.max} jobs / ${limiter.duration} ms (catalog), postpone ${settings.WORKER_POSTPONE_MS} ms, LOG_LEVEL error`);
  console.log(
    `token buckets     : ec2-read ${settings.WORKER_EC2_READ_PER_SECOND}/s burst ${settings.WORKER_EC2_READ_BURST}, ec2-write ${settings.WORKER_EC2_WRITE_PER_SECOND}/s burst ${settings.WORKER_EC2_WRITE_BURST} (env); ` +
      FIXED_FAMILIES.map((f) => `${f} ${(raised ?? INSTANCE_FAMILIES)[f]?.refillPerSecond ?? "?"}/s burst ${(raised ?? INSTANCE_FAMILIES)[f]?.capacity ?? "?"}`).join(", ") +
      (raised ? " (not settable by env: raised by the bench, --fixed-buckets default to keep them)" : " (defaults)"),
  );
  console.log(`isolation cap     : WORKER_ISOLATIONS_PER_MINUTE ${settings.WORKER_ISOLATIONS_PER_MINUTE}`);
  console.log(
    `moto              : a fresh server for phases 1-2, for 4 (one at a time + paced) and for 4 (burst); ` +
      (motoAmis ? "one AMI (MOTO_AMIS_PATH) instead of its public AMI catalogue and their snapshots (--moto-amis default to keep them)" : "its default AMI catalogue"),
  );

  if (phases.has("1")) {
    await withMoto((_aws, clients, env) =>
      dryRunPhases({
        clients,
        prisma,
        config: configFor(env),
        logger,
        accountId: ACCOUNT,
        remediations,
        instances: dryRunInstances,
        targetGroups,
        concurrency,
        fixedBuckets,
        raised,
        withFloor: phases.has("2"),
      }),
    );
  }
  if (phases.has("3")) {
    const ms = await bareWorkerMs({ redisUrl, prefix, queueName: "bench-noop", concurrency, payloads: Array.from({ length: noopJobs }, (_, i) => ({ i })), processor: () => Promise.resolve() });
    console.log(`\n3. bare no-op BullMQ Worker, concurrency ${concurrency}: ${((noopJobs / ms) * 1000).toFixed(0).padStart(7)} jobs/s  (${noopJobs} jobs in ${(ms / 1000).toFixed(2)} s)`);
  }
  if (phases.has("4")) {
    const common = { prisma, logger, accountId: ACCOUNT, rate, vpcs: vpcCount, targetGroups, fixedBuckets, raised };
    await withMoto((aws, clients, env) => latencyPhase({ ...common, aws, clients, env, config: configFor(env), solo, paced: pacedCount, burst: 0, title: true }));
    if (burstCount > 0) {
      await withMoto((aws, clients, env) => latencyPhase({ ...common, aws, clients, env, config: configFor(env), solo: 0, paced: 0, burst: burstCount, title: false }));
    }
  }
  console.log(`\nmemory: peak rss ${mib(rss.peak())}; whole run ${((performance.now() - benchStarted) / 1000).toFixed(0)} s`);
  await prisma.$disconnect();
  admin.disconnect();
} finally {
  rss.stop();
  if (motoAmis) await rm(dirname(motoAmis), { recursive: true, force: true });
}
// createWorkerService's stop() leaves the connection it hands each BullMQ Worker open (BullMQ
// never closes a connection it was given), so the process would not end by itself.
process.exit(process.exitCode ?? 0);
