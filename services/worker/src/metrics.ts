import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface EngineMetrics {
  jobs: Counter<"playbook" | "outcome">;
  /** Outcome: StepOutcomeLabel (engine/step-runner.ts), a fixed set. */
  stepSeconds: Histogram<"playbook" | "step" | "outcome">;
  retries: Counter<"playbook" | "step">;
  failures: Counter<"playbook" | "error">;
  containedSeconds: Histogram<"playbook" | "since">;
  /** Jobs of isolating playbooks held back by the isolations-per-minute cap. */
  isolationCapWaits: Counter<"playbook">;
  /** Remediations not moving for longer than WORKER_STUCK_AFTER_MS, as of the last reconcile pass. */
  stuck: Gauge<"status">;
  /** What the reconciler did about remediations whose job was lost or failed. */
  recoveries: Counter<"outcome">;
}

export function createEngineMetrics(registry: Registry): EngineMetrics {
  const registers = [registry];
  return {
    jobs: new Counter({ name: "gdr_worker_jobs_total", help: "Remediation jobs finished, by outcome", labelNames: ["playbook", "outcome"], registers }),
    stepSeconds: new Histogram({
      name: "gdr_worker_step_duration_seconds",
      help: "Duration of one playbook step attempt (check, act, verify)",
      labelNames: ["playbook", "step", "outcome"],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    retries: new Counter({ name: "gdr_worker_step_retries_total", help: "Step attempts that failed and will be retried", labelNames: ["playbook", "step"], registers }),
    failures: new Counter({
      name: "gdr_worker_failures_total",
      help: "Step failures by error class (a fixed set of labels)",
      labelNames: ["playbook", "error"],
      registers,
    }),
    containedSeconds: new Histogram({
      name: "gdr_worker_time_to_contained_seconds",
      help: "From the finding's GuardDuty createdAt, or from ingest, to the playbook's last containment step done",
      labelNames: ["playbook", "since"],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    }),
    isolationCapWaits: new Counter({
      name: "gdr_worker_isolation_cap_waits_total",
      help: "Jobs postponed because the isolations-per-minute cap was reached, by the isolating playbook",
      labelNames: ["playbook"],
      registers,
    }),
    stuck: new Gauge({
      name: "gdr_worker_remediations_stuck",
      help: "Remediations queued, running or approved that have not moved for longer than WORKER_STUCK_AFTER_MS (as of the last reconcile pass)",
      labelNames: ["status"],
      registers,
    }),
    recoveries: new Counter({
      name: "gdr_worker_recoveries_total",
      help: "Remediations whose job was lost or failed in BullMQ: re-enqueued from Postgres (requeued), failed past the recovery limit (gave_up), or failed because their job cannot be built from the record (unqueueable)",
      labelNames: ["outcome"],
      registers,
    }),
  };
}
