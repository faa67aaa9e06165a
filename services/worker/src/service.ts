import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { createAwsClientFactory } from "@gdr/core/aws/factory";
import { createPrisma, type PrismaClient } from "@gdr/core/db/client";
import { pingPostgres, pingRedis } from "@gdr/core/db/ping";
import { createProbeServer } from "@gdr/core/http/probes";
import { loadPolicyFile } from "@gdr/core/policy/index";
import type { Logger } from "@gdr/core/log";
import type { Registry } from "@gdr/core/metrics";
import { recordDerivedRemediation } from "@gdr/core/intake/derived";
import { createNotifier } from "@gdr/core/notify/index";
import { dispatchForRemediations, reportSetAside } from "@gdr/core/queues/outbox";
import { jobOptions, QUEUE_CATALOG } from "@gdr/core/queues/catalog";
import { closeQueues, createQueues, type RemediationQueues } from "@gdr/core/queues/queues";
import { createRedis } from "@gdr/core/queues/redis";
import { startApprovalSweeper, type ApprovalSweeper } from "@gdr/core/approvals/sweeper";
import { createPauseSwitch } from "@gdr/core/control/pause";
import type { AwsClients } from "@gdr/core/aws/clients";
import type { WorkerConfig } from "./config.js";
import type { EngineDeps } from "./engine/deps.js";
import { accountRefusal, exemptInstance } from "@gdr/core/policy/index";
import { partitionOf } from "@gdr/core/aws/targets";
import { createEngineGates } from "./engine/gates/index.js";
import { bucketTable, createResourceLocks, ENGINE_FAMILIES, limitsPrefix } from "./engine/limits/index.js";
import { createOutsideClients } from "./engine/outside-clients.js";
import { createEngineStore } from "./engine/store.js";
import { createEngineLimits } from "./limits.js";
import { createEngineMetrics } from "./metrics.js";
import { startEgressSweeper, type EgressSweeper } from "./playbooks/instance/sweep/egress-sweep.js";
import { createPlaybookRegistry } from "./playbooks/registry.js";
import { createProcessor } from "./processor.js";
import { startReconciler, type Reconciler } from "./reconcile/index.js";

export interface WorkerService {
  start(): Promise<void>;
  /** Finishes active jobs within the deadline; past it, aborts their AWS calls and hands them back. */
  stop(deadlineMs?: number): Promise<void>;
  port(): number;
  readonly prisma: PrismaClient;
  readonly limits: ReturnType<typeof createEngineLimits>;
}

export interface WorkerServiceDeps {
  logger: Logger;
  registry: Registry;
  /** Tests: fault injection on every AWS client set the worker builds. */
  awsMiddleware?: (clients: AwsClients) => void;
}

/** Builds the worker: one BullMQ Worker per playbook it has, all sharing the engine's parts. */
export function createWorkerService(config: Readonly<WorkerConfig>, deps: WorkerServiceDeps): WorkerService {
  const logger = deps.logger;
  const prisma = createPrisma(config.DATABASE_URL);
  const redis = createRedis(config.REDIS_URL, "worker");
  redis.on("error", (err: Error) => {
    logger.warn({ err: { message: err.message } }, "redis connection error");
  });
  const aws = createAwsClientFactory({
    localAccountId: config.WORKER_ACCOUNT_ID,
    roleName: config.WORKER_ROLE_NAME,
    externalId: config.WORKER_ROLE_EXTERNAL_ID,
    endpoint: config.AWS_ENDPOINT_URL,
    stsRegion: config.AWS_REGION,
    middleware: deps.awsMiddleware,
  });
  const policy = loadPolicyFile(config.POLICY_FILE);
  const playbooks = createPlaybookRegistry({
    instanceTerminate: config.WORKER_INSTANCE_TERMINATE,
    exemptTag: policy.exemptTag,
    // The role this worker acts through in other accounts: the Credentials playbook never revokes it.
    responderRoleName: config.WORKER_ROLE_NAME,
  });
  // The buckets of every family a registered playbook (or the engine's confirmation gate) calls;
  // two playbooks disagreeing on one is a StartupError (exit 2).
  const buckets = bucketTable([{ name: "the engine (GuardDuty confirmation)", families: ENGINE_FAMILIES }, ...[...playbooks.values()].map((p) => ({ name: `playbook ${p.name}`, families: p.families }))], config);
  const limits = createEngineLimits(redis, config, prisma, buckets);
  const outsideClients = createOutsideClients((name) => playbooks.get(name), logger);
  const abort = new AbortController();
  const notifier = createNotifier(
    { slackWebhookUrl: config.NOTIFY_SLACK_WEBHOOK_URL, snsTopicArn: config.NOTIFY_SNS_TOPIC_ARN, awsEndpoint: config.AWS_ENDPOINT_URL },
    { logger, registry: deps.registry },
  );
  const engine: EngineDeps = {
    store: createEngineStore(prisma),
    playbookFor: (name) => playbooks.get(name),
    aws,
    limits,
    logger,
    metrics: createEngineMetrics(deps.registry),
    signal: abort.signal,
    gates: createEngineGates(policy, { confirmFindings: config.WORKER_CONFIRM_FINDINGS }),
    postponeMs: config.WORKER_POSTPONE_MS,
    outsideClient: (target, name, signal) => outsideClients.get(target, name, signal),
    notifier,
    publicUrl: config.PUBLIC_URL,
    async handOver(job, jobId) {
      const queue = queueByName.get(job.playbook);
      if (!queue) throw new Error(`no queue for playbook ${job.playbook} in this worker`);
      await queue.add(job.playbook, job, jobOptions(QUEUE_CATALOG[job.playbook], jobId, job.action));
    },
    async startRemediation(parent, asked) {
      // A host the policy exempts is not acted on because a task on it was found: its remediation
      // is recorded and told (notify), like a finding on the host itself would be ignored.
      const exempt =
        asked.playbook === "instance"
          ? exemptInstance(policy.exempt.resources, { instanceId: asked.resourceKey, partition: partitionOf(parent.region), region: parent.region, accountId: parent.accountId })
          : undefined;
      const request = exempt === undefined ? asked : { ...asked, mode: "notify" as const, reason: `${asked.reason}; the policy exempts ${exempt} (exempt.resources): recorded and told, nothing runs` };
      const started = await recordDerivedRemediation(prisma, parent, request);
      if (started.created) {
        // Queued now rather than on the relay's next pass. If Redis does not take it, the row
        // stays in the outbox and ingest's relay (dispatchStale) queues it later: nothing is lost.
        derivedQueues ??= createQueues(redis, config.QUEUE_PREFIX);
        try {
          const result = await dispatchForRemediations(prisma, derivedQueues, [started.remediationId]);
          await reportSetAside(prisma, { logger, notifier, publicUrl: config.PUBLIC_URL }, result.setAside);
        } catch (err) {
          logger.warn({ remediationId: started.remediationId, err: { message: err instanceof Error ? err.message : String(err) } }, "started remediation recorded; its job is left to the outbox relay");
        }
      }
      return started;
    },
  };
  let derivedQueues: RemediationQueues | undefined;

  const workers: Worker[] = [];
  const queues: Queue[] = [];
  const queueByName = new Map<string, Queue>();
  const workerConnections: Redis[] = [];
  let sweeper: { stop(): Promise<void>; queues: RemediationQueues } | undefined;
  let reconciler: { stop(): Promise<void>; queues: RemediationQueues; connection: Redis } | undefined;
  let egressSweeper: EgressSweeper | undefined;
  let stopping = false;
  let stopped: Promise<void> | undefined;
  const http = createProbeServer({
    logger,
    registry: deps.registry,
    alive: () => !stopping && workers.every((w) => w.isRunning()),
    checks: { postgres: () => pingPostgres(prisma), redis: () => pingRedis(redis) },
  });

  return {
    prisma,
    limits,
    async start() {
      for (const name of playbooks.keys()) {
        const definition = QUEUE_CATALOG[name];
        // Throttling slows the whole queue, for every worker process, not just this job.
        const queue = new Queue(definition.name, { connection: redis, prefix: config.QUEUE_PREFIX });
        queues.push(queue);
        queueByName.set(definition.name, queue);
        // BullMQ leaves a connection it was given open on close (it counts it as the caller's):
        // kept here so that stop() closes it, or the process would never exit.
        const workerConnection = redis.duplicate();
        workerConnections.push(workerConnection);
        const worker = new Worker(
          definition.name,
          createProcessor(engine, {
            definition,
            rateLimit: (delayMs) => queue.rateLimit(delayMs),
            outageBackoff: { baseMs: config.WORKER_POSTPONE_MS, maxMs: config.WORKER_OUTAGE_BACKOFF_MAX_MS },
          }),
          {
            connection: workerConnection,
            prefix: config.QUEUE_PREFIX,
            concurrency: config.WORKER_CONCURRENCY ?? definition.concurrency,
            limiter: definition.limiter,
            // A job whose worker died is picked up again after about this long (it resumes at its cursor).
            lockDuration: config.WORKER_JOB_LOCK_MS,
            stalledInterval: config.WORKER_JOB_LOCK_MS,
            maxStalledCount: 3,
          },
        );
        worker.on("error", (err) => {
          logger.error({ err: { message: err.message }, queue: definition.name }, "worker error");
        });
        workers.push(worker);
      }
      await Promise.all(workers.map((w) => w.waitUntilReady()));
      await http.listen({ host: config.WORKER_HTTP_HOST, port: config.WORKER_HTTP_PORT });
      // Approvals past the policy's expiry end here; every worker may sweep (rows are locked one by one).
      const sweepQueues = createQueues(redis, config.QUEUE_PREFIX);
      const approvals: ApprovalSweeper = startApprovalSweeper({
        prisma,
        queues: sweepQueues,
        logger,
        approval: policy.approval,
        intervalMs: config.WORKER_APPROVAL_SWEEP_MS,
        notifier,
        publicUrl: config.PUBLIC_URL,
      });
      sweeper = { stop: () => approvals.stop(), queues: sweepQueues };
      // Lost and failed jobs re-enqueued from Postgres, stuck remediations reported; every worker
      // reconciles (rows are locked with SKIP LOCKED). Its connection fails fast while Redis is
      // away, so a pass ends with an error instead of holding row locks until Redis returns.
      const reconcileConnection = createRedis(config.REDIS_URL, "producer");
      reconcileConnection.on("error", () => undefined); // logged by the pass that fails
      const reconcileQueues = createQueues(reconcileConnection, config.QUEUE_PREFIX);
      const reconcile: Reconciler = startReconciler(
        {
          prisma,
          queues: reconcileQueues,
          logger,
          metrics: engine.metrics,
          notifier,
          publicUrl: config.PUBLIC_URL,
          // On the reconciler's fail-fast connection: a pass never waits on Redis to read it.
          pause: createPauseSwitch(reconcileConnection, { queuePrefix: config.QUEUE_PREFIX, prisma, via: "worker" }),
        },
        {
          intervalMs: config.WORKER_RECONCILE_MS,
          graceMs: config.WORKER_RECONCILE_GRACE_MS,
          recoveryLimit: config.WORKER_RECOVERY_LIMIT,
          stuckAfterMs: config.WORKER_STUCK_AFTER_MS,
        },
      );
      reconciler = { stop: () => reconcile.stop(), queues: reconcileQueues, connection: reconcileConnection };
      // What a dead worker left mid-isolation: interfaces still on a transit group (moved on to
      // containment) and the previous version's temporary egress rules (revoked); every worker
      // sweeps (each VPC under its isolation lock, taken without waiting), with the steps' clients
      // and limits.
      egressSweeper = startEgressSweeper({
        prisma,
        aws,
        throttle: (accountId, family, signal) => limits.throttle(accountId, family, signal),
        locks: createResourceLocks(redis, { prefix: limitsPrefix(config.QUEUE_PREFIX), ttlMs: config.WORKER_LOCK_TTL_MS }),
        logger,
        signal: abort.signal,
        minAgeMs: config.WORKER_LOCK_TTL_MS,
        accountRefusal: (accountId) => accountRefusal(policy, accountId),
        intervalMs: config.WORKER_EGRESS_SWEEP_MS,
      });
      if (!config.WORKER_CONFIRM_FINDINGS) {
        logger.warn(
          { endpoint: config.AWS_ENDPOINT_URL },
          "WORKER_CONFIRM_FINDINGS=false: findings are NOT confirmed with GuardDuty before acting (allowed only against an emulator)",
        );
      }
      logger.info({ queues: [...playbooks.keys()], port: this.port() }, "worker started");
    },

    stop(deadlineMs = config.SHUTDOWN_TIMEOUT_MS) {
      stopped ??= (async () => {
        stopping = true;
        // Armed first: the sweeps' stops wait for a sweep in progress, and the approval and egress
        // sweeps' Redis commands wait as long as Redis is away; the deadline must bound that too.
        let deadlinePassed = (): void => undefined;
        const deadline = new Promise<void>((resolve) => {
          deadlinePassed = resolve;
        });
        const timer = setTimeout(() => {
          logger.warn({ deadlineMs }, "active jobs still running at the deadline: aborting their AWS calls, handing them back");
          abort.abort(new Error("worker stopping"));
          void Promise.all(workers.map((w) => w.close(true)));
          deadlinePassed();
        }, deadlineMs);
        timer.unref();
        await Promise.race([Promise.all([sweeper?.stop(), reconciler?.stop(), egressSweeper?.stop()]), deadline]);
        const graceful = Promise.all(workers.map((w) => w.close()));
        await graceful;
        clearTimeout(timer);
        await Promise.all(queues.map((q) => q.close()));
        for (const connection of workerConnections) connection.disconnect();
        if (sweeper) await closeQueues(sweeper.queues);
        if (derivedQueues) await closeQueues(derivedQueues);
        if (reconciler) {
          await closeQueues(reconciler.queues);
          reconciler.connection.disconnect();
        }
        // Jobs are done: what they notified gets a bounded moment to reach its channels.
        await notifier.drain(Math.min(deadlineMs, 10_000));
        await http.close();
        // After the jobs: no step uses a client any more.
        await outsideClients.close();
        aws.destroy();
        redis.disconnect();
        await prisma.$disconnect();
        logger.info("worker stopped");
      })();
      return stopped;
    },

    port() {
      const address = http.server.address();
      return typeof address === "object" && address ? address.port : config.WORKER_HTTP_PORT;
    },
  };
}
