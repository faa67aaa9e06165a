import type { AwsClientFactory } from "@gdr/core/aws/clients";
import type { Logger } from "@gdr/core/log";
import type { Notifier } from "@gdr/core/notify/index";
import type { RemediationJob } from "@gdr/core/queues/catalog";
import type { PlaybookName } from "@gdr/core/queues/playbooks";
import type { EngineMetrics } from "../metrics.js";
import type { EngineGates } from "./gates/index.js";
import type { ApiFamily, Playbook, RemediationRef, StartedRemediation, StartRemediationRequest } from "./step.js";
import type { EngineStore } from "./store.js";

/** The limits the engine honours, backed by Redis so they hold across worker processes. */
export interface EngineLimits {
  /** Waits for a token of the account's bucket for an API family. */
  throttle(accountId: string, family: ApiFamily, signal: AbortSignal): Promise<void>;
  isPaused(): Promise<{ paused: boolean; reason?: string }>;
  /** The per-resource lock: null when another remediation holds it. */
  acquireResource(key: string): Promise<{ release(): Promise<void>; lost: AbortSignal } | null>;
  /** A named mutex, waited for (used by steps, e.g. around the shared isolation group). */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Reserves one isolation under the per-minute cap. */
  reserveIsolation(): Promise<{ ok: boolean; retryInMs: number }>;
}

export interface EngineDeps {
  store: EngineStore;
  playbookFor(name: PlaybookName): Playbook | undefined;
  aws: AwsClientFactory;
  limits: EngineLimits;
  logger: Logger;
  metrics: EngineMetrics;
  /** Aborted when the worker must stop now: passed into every AWS call. */
  signal: AbortSignal;
  /** The policy's account allow list and GuardDuty's confirmation, asked before any change. */
  gates: EngineGates;
  /** How long to wait before trying a paused or busy remediation again. */
  postponeMs: number;
  /**
   * A playbook's outside client (Playbook.clients) for a remediation's target, built on first use
   * and kept until the worker stops.
   */
  outsideClient<T>(target: RemediationRef, name: string, signal: AbortSignal): Promise<T>;
  /** Tells people about approvals, outcomes and notify-mode findings; never blocks or throws. */
  notifier: Notifier;
  /** The API's base URL, for links in notifications. */
  publicUrl: string;
  /**
   * Enqueues the `evidence` job that carries on after containment (at a lower priority), with
   * this job id; adding an id BullMQ already holds does nothing, so a re-run hands over once.
   */
  handOver(job: RemediationJob, jobId: string): Promise<void>;
  /**
   * Records a remediation a step started (ctx.startRemediation, act mode only) with `parent` as
   * its parent, and queues its job; a remediation already holding (finding, playbook, resource)
   * is answered instead.
   */
  startRemediation(parent: RemediationRef, request: StartRemediationRequest): Promise<StartedRemediation>;
}
