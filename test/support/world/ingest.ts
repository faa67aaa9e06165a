// The ingest service as main.ts composes it, in this process (no signal handling), and the
// environment an ingest process needs (for a child: spawnTs("services/ingest/src/main.ts", env)).
import { SQSClient } from "@aws-sdk/client-sqs";
import { createLogger } from "@gdr/core/log";
import { createMetricsRegistry } from "@gdr/core/metrics";
import type { FanOutNotifier, NotificationEvent } from "@gdr/core/notify/index";
import { parsePolicy } from "@gdr/core/policy/index";
import { loadIngestConfig } from "@gdr/ingest/config";
import { createIngestService, type IngestService } from "@gdr/ingest/service";
import { awsTestEnv } from "../aws-env.js";
import { metricValue, scrape } from "../metrics.js";
import { settingEnv, type ServiceSetting } from "./setting.js";
import { startOrStop } from "./start.js";

export interface IngestSetting extends ServiceSetting {
  queueUrl: string;
  visibilityTimeoutSeconds: number;
}

export function ingestEnv(setting: IngestSetting, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...settingEnv(setting),
    SQS_QUEUE_URL: setting.queueUrl,
    INGEST_HTTP_HOST: "127.0.0.1",
    INGEST_HTTP_PORT: "0",
    INGEST_WAIT_TIME_SECONDS: "1",
    INGEST_VISIBILITY_TIMEOUT: String(setting.visibilityTimeoutSeconds),
    LOG_LEVEL: process.env["TEST_INGEST_LOG_LEVEL"] ?? "silent",
    ...overrides,
  };
}

export interface RunningIngest {
  service: IngestService;
  get(path: string): Promise<{ status: number; text: string }>;
  /** The current value of a metric, summed over the series whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Idempotent. */
  stop(): Promise<void>;
}

export interface IngestOptions {
  notifier?: FanOutNotifier;
  /** A policy (YAML); the config's POLICY_FILE when absent. */
  policy?: string;
}

/** A notifier that keeps what it is told, typed against the real one (no channel to deliver to). */
export interface RecordingNotifier extends FanOutNotifier {
  readonly events: NotificationEvent[];
}

export function recordingNotifier(): RecordingNotifier {
  const events: NotificationEvent[] = [];
  return {
    events,
    notify(event) {
      events.push(event);
    },
    drain: () => Promise.resolve(),
    inFlight: () => 0,
  };
}

export async function startIngest(env: Record<string, string>, options: IngestOptions = {}): Promise<RunningIngest> {
  const config = loadIngestConfig(env);
  // The service would build this client from the same settings, with credentials from
  // process.env; handing it over keeps moto's fake credentials out of this process's environment.
  const aws = awsTestEnv(config.AWS_ENDPOINT_URL ?? "");
  const service = createIngestService(config, {
    logger: createLogger({ level: config.LOG_LEVEL, name: "ingest-test" }),
    registry: createMetricsRegistry({ service: "ingest-test" }),
    sqsClient: new SQSClient({ region: aws.region, endpoint: aws.endpoint, credentials: aws.credentials, maxAttempts: 3 }),
    ...(options.notifier ? { notifier: options.notifier } : {}),
    ...(options.policy === undefined ? {} : { policy: parsePolicy(options.policy, "test policy") }),
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= service.stop());
  // A failed start is stopped here: the caller gets no handle to stop it with.
  await startOrStop(service.start(), stop);
  return {
    service,
    async get(path) {
      const res = await fetch(`http://127.0.0.1:${service.port()}${path}`, { signal: AbortSignal.timeout(10_000) });
      return { status: res.status, text: await res.text() };
    },
    async metric(name, labels = {}) {
      return metricValue(await scrape(service.port()), name, labels);
    },
    stop,
  };
}
