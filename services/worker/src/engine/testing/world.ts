// For the engine's unit tests only: the engine's dependencies, every one of them a working
// in-memory part (store, limits, notifier, hand-over queue, outside clients) or the real thing
// (gates, metrics). AWS clients exist, as EngineDeps requires, but any request they would send
// fails: these tests run with no AWS at all.
import { randomUUID } from "node:crypto";
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { ECRClient } from "@aws-sdk/client-ecr";
import { ECSClient } from "@aws-sdk/client-ecs";
import { GuardDutyClient } from "@aws-sdk/client-guardduty";
import { IAMClient } from "@aws-sdk/client-iam";
import type { AwsClientFactory, AwsClients } from "@gdr/core/aws/clients";
import { createLogger } from "@gdr/core/log";
import type { NotificationEvent } from "@gdr/core/notify/index";
import type { RemediationJob } from "@gdr/core/queues/catalog";
import type { RemediationMode } from "@gdr/core/queues/playbooks";
import { Registry } from "prom-client";
import { createEngineMetrics } from "../../metrics.js";
import type { EngineDeps } from "../deps.js";
import { createEngineGates } from "../gates/index.js";
import { bucketTable, ENGINE_FAMILIES } from "../limits/index.js";
import { createOutsideClients, type OutsideClients } from "../outside-clients.js";
import { runRemediation, type RunOutcome } from "../runner.js";
import type { Playbook, RemediationRef, StartRemediationRequest } from "../step.js";
import { createInMemoryLimits, type InMemoryLimits } from "./in-memory-limits.js";
import { createInMemoryStore, type InMemoryStore } from "./in-memory-store.js";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";

/** Clients whose every request fails before it leaves the process. */
function offlineAwsFactory(): AwsClientFactory & { targets: string[] } {
  const targets: string[] = [];
  const config = {
    region: REGION,
    credentials: { accessKeyId: "AKIAOFFLINEOFFLINE00", secretAccessKey: "offline" },
    requestHandler: { handle: () => Promise.reject(new Error("no AWS in the engine's unit tests")) },
  };
  return {
    targets,
    forTarget(accountId, region): Promise<AwsClients> {
      targets.push(`${accountId}/${region}`);
      return Promise.resolve({
        accountId,
        region,
        ec2: new EC2Client(config),
        autoscaling: new AutoScalingClient(config),
        elbv2: new ElasticLoadBalancingV2Client(config),
        guardduty: new GuardDutyClient(config),
        iam: new IAMClient(config),
        ecs: new ECSClient(config),
        ecr: new ECRClient(config),
      });
    },
    destroy: () => undefined,
  };
}

export interface EngineWorld {
  deps: EngineDeps;
  store: InMemoryStore;
  limits: InMemoryLimits;
  clients: OutsideClients;
  notified: NotificationEvent[];
  /** Remediations steps started (ctx.startRemediation), in order. */
  started: { parent: RemediationRef; request: StartRemediationRequest; remediationId: string }[];
  /** Jobs handed over (the evidence jobs), with their ids, in order. */
  handedOver: { job: RemediationJob; jobId: string }[];
  metrics: Registry;
  /** A remediation as ingest leaves it (queued), and the job that carries it. */
  seed(resourceKey: string, mode: RemediationMode): RemediationJob;
  /** Runs one job the way the processor does; `n` numbers the job id. */
  run(job: RemediationJob, action?: RemediationJob["action"]): Promise<RunOutcome>;
}

export function createEngineWorld(playbook: Playbook, options: { allow?: string[]; isolationsPerMinute?: number } = {}): EngineWorld {
  const store = createInMemoryStore();
  const buckets = bucketTable([
    { name: "engine", families: ENGINE_FAMILIES },
    { name: playbook.name, families: playbook.families },
  ]);
  const limits = createInMemoryLimits({ buckets, ...(options.isolationsPerMinute === undefined ? {} : { isolationsPerMinute: options.isolationsPerMinute }) });
  const logger = createLogger({ level: "silent", name: "engine-test" });
  const playbookFor = (name: string): Playbook | undefined => (name === playbook.name ? playbook : undefined);
  const clients = createOutsideClients(playbookFor, logger);
  const notified: NotificationEvent[] = [];
  const handedOver: EngineWorld["handedOver"] = [];
  const started: EngineWorld["started"] = [];
  const metrics = new Registry();
  let seeded = 0;
  let jobs = 0;

  const deps: EngineDeps = {
    store,
    playbookFor,
    aws: offlineAwsFactory(),
    limits,
    logger,
    metrics: createEngineMetrics(metrics),
    signal: new AbortController().signal,
    gates: createEngineGates({ accounts: { allow: options.allow ?? ["*"] } }, { confirmFindings: false }),
    postponeMs: 250,
    outsideClient: (target, name, signal) => clients.get(target, name, signal),
    notifier: { notify: (event) => notified.push(event) },
    publicUrl: "http://localhost:8080",
    handOver(job, jobId) {
      // BullMQ keeps one job per id: a second hand-over with the same id adds nothing.
      if (!handedOver.some((h) => h.jobId === jobId)) handedOver.push({ job, jobId });
      return Promise.resolve();
    },
    startRemediation(parent, request) {
      // Deduplicated on (finding, playbook, resource), like the store's unique key.
      const held = started.find((s) => s.parent.findingId === parent.findingId && s.request.playbook === request.playbook && s.request.resourceKey === request.resourceKey);
      if (held) return Promise.resolve({ remediationId: held.remediationId, created: false });
      const remediationId = randomUUID();
      started.push({ parent, request, remediationId });
      return Promise.resolve({ remediationId, created: true });
    },
  };

  return {
    deps,
    store,
    limits,
    clients,
    notified,
    handedOver,
    started,
    metrics,
    seed(resourceKey, mode) {
      seeded += 1;
      const id = `00000000-0000-4000-8000-${String(seeded).padStart(12, "0")}`;
      const findingId = `${String(seeded).padStart(2, "0")}${"0".repeat(30)}`;
      store.remediations.set(id, {
        ref: { id, findingId, accountId: ACCOUNT, region: REGION, resourceKey, playbook: playbook.name, mode },
        status: "queued",
        plan: null,
        planHash: null,
        error: null,
        containedAt: null,
        finishedAt: null,
        finding: { id: findingId },
        findingCreatedAt: new Date(Date.now() - 60_000),
        createdAt: new Date(Date.now() - 30_000),
      });
      return { remediationId: id, findingId, playbook: playbook.name, mode, accountId: ACCOUNT, region: REGION, resourceKey, action: "contain" };
    },
    run(job, action = job.action) {
      jobs += 1;
      return runRemediation({ ...job, action }, { jobId: `job-${jobs}`, attemptsMade: 0, attempts: 8 }, deps);
    },
  };
}
