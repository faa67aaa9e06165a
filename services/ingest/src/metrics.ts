import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface IngestMetrics {
  received: Counter;
  outcomes: Counter<"outcome" | "reason">;
  batchSeconds: Histogram;
  stageSeconds: Histogram<"stage">;
  batchFailures: Counter<"kind">;
  deleteFailures: Counter;
  remediationsCreated: Counter;
  outboxPending: Gauge;
  outboxLagSeconds: Gauge;
  outboxDispatched: Counter;
  outboxSetAside: Counter;
}

export function createIngestMetrics(registry: Registry): IngestMetrics {
  const registers = [registry];
  return {
    received: new Counter({ name: "gdr_ingest_messages_received_total", help: "SQS messages received", registers }),
    outcomes: new Counter({
      name: "gdr_ingest_messages_total",
      help: "Messages recorded, by outcome and reason (first delivery only)",
      labelNames: ["outcome", "reason"],
      registers,
    }),
    batchSeconds: new Histogram({
      name: "gdr_ingest_batch_duration_seconds",
      help: "Time from receiving a batch to deleting it from SQS",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    stageSeconds: new Histogram({
      name: "gdr_ingest_stage_duration_seconds",
      help: "Time a batch spends in each stage: record (Postgres transaction), enqueue (BullMQ), delete (SQS)",
      labelNames: ["stage"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    batchFailures: new Counter({
      name: "gdr_ingest_batch_failures_total",
      help: "Batches left on the queue because a dependency failed, by dependency",
      labelNames: ["kind"],
      registers,
    }),
    deleteFailures: new Counter({
      name: "gdr_ingest_sqs_delete_failures_total",
      help: "Messages SQS refused to delete (they come back and are recognised as redeliveries)",
      registers,
    }),
    remediationsCreated: new Counter({ name: "gdr_ingest_remediations_created_total", help: "Remediations created", registers }),
    outboxPending: new Gauge({ name: "gdr_ingest_outbox_pending", help: "Outbox rows not yet enqueued", registers }),
    outboxLagSeconds: new Gauge({
      name: "gdr_ingest_outbox_lag_seconds",
      help: "Age of the oldest outbox row not yet enqueued (0 when none)",
      registers,
    }),
    outboxDispatched: new Counter({ name: "gdr_ingest_outbox_dispatched_total", help: "Outbox rows enqueued to BullMQ", registers }),
    outboxSetAside: new Counter({
      name: "gdr_ingest_outbox_set_aside_total",
      help: "Outbox rows that could not become a job (their remediation failed with the reason)",
      registers,
    }),
  };
}
