// What a playbook declares to the engine (see ../playbooks/README.md), and the non-AWS clients it
// may bring. Re-exported from step.ts, which steps and playbooks import.
import type { PlaybookName } from "@gdr/core/queues/playbooks";
import type { BucketSpec } from "./limits/token-bucket.js";
import type { ApiFamily, RemediationRef, Step } from "./step.js";

/** A client that is not an AWS SDK client (Kubernetes API next), built per remediation target. */
export interface OutsideClientFactory<T = unknown> {
  /**
   * The part of a target one client serves, within its account and region (e.g. the cluster of
   * a pod: one Kubernetes client per cluster): targets with the same scope share a client.
   * Omitted: the resource key, one client per resource (never the wrong endpoint, but one client
   * per resource kept until the worker stops).
   */
  scope?(target: RemediationRef): string;
  create(target: RemediationRef, signal: AbortSignal): Promise<T>;
  /** Closes a client built by create (the worker stops, or the target's clients are dropped). */
  close(client: T): Promise<void>;
}

/**
 * A playbook, as the engine runs it. Whoever adds one writes its steps and this declaration; the
 * engine, the gate, the limits and the release path need no change.
 */
export interface Playbook {
  name: PlaybookName;
  /** The steps in order. Destructive steps come after containment. */
  steps: readonly Step[];
  /** The steps that undo containment, run after a person approves a release. */
  release: readonly Step[];
  /**
   * The step(s) whose success means the resource is contained (all of them, in this order): the
   * hand-over to evidence work happens after the last, `contained_at` is recorded then, and a
   * release is possible from then on.
   */
  containment: readonly string[];
  /** Whether containment takes the resource off the network: the per-minute isolation cap applies. */
  isolates: boolean;
  /** The rate buckets this playbook's calls take tokens from, with their defaults. */
  families: Readonly<Record<ApiFamily, BucketSpec>>;
  /** Outside clients by name (ctx.client(name)). */
  clients?: Readonly<Record<string, OutsideClientFactory>>;
  /**
   * Containment fallbacks: containment step name → the destructive step that contains instead
   * when that step could not do its work (it returned `notAvailable`, e.g. AWS refused changing
   * the groups of an ECS-managed task ENI). Without a fallback such a step escalates the
   * remediation. With one, the playbook carries on (evidence first), and the fallback step waits
   * at the approval gate like any destructive step, in every mode, its plan saying why; once it
   * succeeds the remediation counts as contained.
   */
  fallbacks?: Readonly<Record<string, string>>;
}
