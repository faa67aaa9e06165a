// The worker, in this process (its logs captured, its AWS clients open to fault injection) or as
// a real child process (SIGKILL is real), and the environment both take.
import type { AwsClients } from "@gdr/core/aws/clients";
import { createLogger } from "@gdr/core/log";
import { createMetricsRegistry } from "@gdr/core/metrics";
import { loadWorkerConfig } from "@gdr/worker/config";
import { createWorkerService, type WorkerService } from "@gdr/worker/service";
import { MOTO_ACCOUNT_ID } from "../aws-env.js";
import { spawnTs, type TsChild } from "../child.js";
import { scrape } from "../metrics.js";
import { createLogSink, type LogSink } from "./log-sink.js";
import { settingEnv, type ServiceSetting } from "./setting.js";
import { startOrStop } from "./start.js";

const WORKER_ENTRY = "services/worker/src/main.ts";

/** Settings every test worker shares: fast postponing, EC2 buckets out of the way (moto never throttles). */
export function workerEnv(setting: ServiceSetting, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...settingEnv(setting),
    LOG_LEVEL: "info",
    WORKER_ACCOUNT_ID: MOTO_ACCOUNT_ID,
    WORKER_HTTP_HOST: "127.0.0.1",
    WORKER_HTTP_PORT: "0",
    WORKER_POSTPONE_MS: "200",
    WORKER_JOB_LOCK_MS: "10000",
    WORKER_LOCK_TTL_MS: "5000",
    WORKER_EC2_WRITE_PER_SECOND: "100",
    WORKER_EC2_WRITE_BURST: "1000",
    WORKER_EC2_READ_PER_SECOND: "1000",
    WORKER_EC2_READ_BURST: "1000",
    SHUTDOWN_TIMEOUT_MS: "10000",
    // Workers of one file share a database but not a queue prefix: one's reconciler would take
    // another's open remediations for lost. Tests of the reconciler set their own grace period.
    WORKER_RECONCILE_GRACE_MS: "3600000",
    // moto has no GuardDuty GetFindings: the confirmation gate is off here (allowed because
    // AWS_ENDPOINT_URL points at moto) and tested with a mocked GuardDuty in gates-confirm.test.ts.
    WORKER_CONFIRM_FINDINGS: "false",
    ...overrides,
  };
}

export interface RunningWorker {
  service: WorkerService;
  logs: LogSink;
  /** The worker's /metrics text. */
  metrics(): Promise<string>;
  /** Idempotent. */
  stop(): Promise<void>;
}

/**
 * The worker service as main.ts composes it, in this process. Its SDK clients take credentials
 * from the default chain, as in production: the world puts moto's fake keys in process.env
 * (createWorld's `credentialsInEnv`).
 */
export async function startWorkerInProcess(env: Record<string, string>, awsMiddleware?: (clients: AwsClients) => void): Promise<RunningWorker> {
  const config = loadWorkerConfig(env);
  const logs = createLogSink();
  const service = createWorkerService(config, {
    logger: createLogger({ level: config.LOG_LEVEL, name: "worker", destination: logs }),
    registry: createMetricsRegistry({ service: "worker" }),
    ...(awsMiddleware ? { awsMiddleware } : {}),
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= service.stop());
  // A start that fails half-way (queues and Redis connections made, then the port refused) leaves
  // them open unless stopped here: the caller never gets a handle to stop.
  await startOrStop(service.start(), stop);
  return { service, logs, metrics: () => scrape(service.port()), stop };
}

export interface WorkerProcess {
  child: TsChild;
  /** The jobs this process finished, with their outcome, from its "remediation job done" log lines. */
  finished(): { resource: string; outcome: string; jobId: string }[];
  kill(): Promise<void>;
  /** SIGTERM, and waits for the exit. */
  stop(): Promise<void>;
}

export async function spawnWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawnTs(WORKER_ENTRY, env);
  const kill = async (): Promise<void> => {
    child.kill("SIGKILL");
    await child.exited;
  };
  // A child that never says it started (it crashed, or hangs on an unreachable Redis) is killed
  // here: the caller gets no handle to kill it with.
  await startOrStop(child.waitForLine(/"msg":"worker started"/, 30_000).then(() => undefined), kill);
  return {
    child,
    finished() {
      return child.lines.flatMap((l) => {
        if (!l.text.includes('"msg":"remediation job done"')) return [];
        const line = JSON.parse(l.text) as { resource: string; outcome: string; jobId: string };
        return [{ resource: line.resource, outcome: line.outcome, jobId: line.jobId }];
      });
    },
    kill,
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}
