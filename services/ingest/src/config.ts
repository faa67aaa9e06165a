import { z } from "zod";
import { commonFields, intInRange } from "@gdr/core/config/fields";
import { parseConfig } from "@gdr/core/config/parse";
import { notifyFields } from "@gdr/core/notify/fields";

export const ingestConfigSchema = z.object({
  ...commonFields,
  // Ingest tells people about exempt findings and version conflicts, on the worker's channels.
  ...notifyFields,
  SQS_QUEUE_URL: z.url("must be the queue URL, e.g. https://sqs.us-east-1.amazonaws.com/123456789012/guardduty-findings"),
  /** Concurrent long-poll loops; each processes its own batches. */
  INGEST_POLLERS: intInRange(1, 64, 4),
  /** Messages per ReceiveMessage call (SQS allows 1-10). */
  INGEST_BATCH_SIZE: intInRange(1, 10, 10),
  /** Long-poll wait (SQS allows 0-20 s). */
  INGEST_WAIT_TIME_SECONDS: intInRange(0, 20, 20),
  /** Seconds a received message stays hidden; extended while its batch is still being processed. */
  INGEST_VISIBILITY_TIMEOUT: intInRange(5, 43_200, 60),
  /** Bodies larger than this are rejected unparsed (UTF-8 bytes). */
  INGEST_MAX_BODY_BYTES: intInRange(1_024, 1_048_576, 262_144),
  /** How often the outbox relay looks for remediations committed but not yet enqueued. */
  INGEST_OUTBOX_INTERVAL_MS: intInRange(100, 600_000, 5_000),
  INGEST_HTTP_HOST: z.string().min(1).default("127.0.0.1"),
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one. */
  INGEST_HTTP_PORT: intInRange(0, 65_535, 9101),
});

export type IngestConfig = z.infer<typeof ingestConfigSchema>;

export function loadIngestConfig(env: NodeJS.ProcessEnv = process.env): Readonly<IngestConfig> {
  return parseConfig(ingestConfigSchema, env);
}
