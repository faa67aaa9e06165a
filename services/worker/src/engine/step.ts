import type { AwsClients } from "@gdr/core/aws/clients";
import type { Logger } from "@gdr/core/log";

/** JSON that can be stored in a jsonb column. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** One AWS call a step will make, as shown in a frozen plan and hashed for approval. */
export interface PlannedCall {
  service: "ec2" | "autoscaling" | "elbv2" | "guardduty";
  operation: string;
  /** The exact parameters, minus nothing: approvers see what will be sent. */
  params: { [key: string]: Json };
}

/** The remediation a step works for, as stored in Postgres. */
export interface RemediationRef {
  id: string;
  findingId: string;
  accountId: string;
  region: string;
  resourceKey: string;
  playbook: string;
  mode: "auto" | "approval" | "dry_run" | "notify";
}

export interface StepContext {
  remediation: RemediationRef;
  /** The finding as received (`findings.raw`), for steps that need more than the resource key. */
  finding: { [key: string]: Json };
  aws: AwsClients;
  /** Outputs of the steps that already finished in this remediation, by step name. */
  outputs: ReadonlyMap<string, Json>;
  /** Passed into every AWS SDK call (`{ abortSignal: ctx.signal }`): set when the worker stops. */
  signal: AbortSignal;
  logger: Logger;
  /**
   * Waits for a token of the account's bucket for an API family before a call (the engine's rate
   * limit per account; EC2 mutating calls are the tightest). Call before each AWS request.
   */
  throttle(family: ApiFamily): Promise<void>;
  /** Records the AWS request id of a response, for the audit trail. */
  noteRequestId(requestId: string | undefined): void;
  /** Tags every resource the step creates or marks carries. */
  tags: { findingId: string; remediationId: string };
  /**
   * Runs `fn` holding a mutex shared by every worker process (Redis), e.g. around the shared
   * isolation group's add-egress → swap → revoke sequence in one VPC. Waits for the lock.
   */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Appends an audit event for this remediation now, not at the step's end: for a mark that must
   * be in Postgres before a risky call (the isolation group's temporary egress rule is recorded
   * as opened before it is added, so that a sweep finds it if the worker dies holding it).
   */
  audit(action: string, detail: { [key: string]: Json }): Promise<void>;
}

export type ApiFamily = "ec2-read" | "ec2-write" | "autoscaling" | "elbv2" | "guardduty";

/** What a step found when it looked before acting. */
export type CheckResult = { done: true; output: Json } | { done: false; state?: Json };

/**
 * One step of a playbook, in a file of its own: `check → act → verify`.
 * - check reads AWS state and says whether the step's effect is already there (a re-run after a
 *   crash then records "skipped: already done" and changes nothing);
 * - act makes the change, idempotently (it may run again after a crash mid-act);
 * - verify re-reads AWS and throws when the effect is not there;
 * - plan lists the calls act would make, for approval and dry-run; dryRun checks permissions
 *   with EC2's DryRun where it exists and changes nothing.
 */
export interface Step {
  name: string;
  /** Waits at the approval gate in every mode. */
  destructive: boolean;
  /**
   * Reads AWS and changes nothing (identify). Read-only steps run before a plan is frozen, so an
   * approver sees the exact calls built from the live state.
   */
  readOnly?: boolean;
  check(ctx: StepContext): Promise<CheckResult>;
  act(ctx: StepContext, state: Json | undefined): Promise<Json>;
  verify(ctx: StepContext, output: Json): Promise<void>;
  plan(ctx: StepContext): Promise<PlannedCall[]>;
  dryRun(ctx: StepContext): Promise<{ permitted: boolean; detail: string }[]>;
  /** Pre-state to keep for release (e.g. each ENI's groups), taken before act. */
  preState?(ctx: StepContext): Promise<Json>;
  /**
   * A read-only step's finding that a person must decide before anything changes, in every mode
   * (e.g. the live resource carries the exemption tag, which a compromised workload may have set
   * itself): the reason, or null. The engine then freezes the plan instead of acting.
   */
  holdFor?(output: Json): string | null;
}

/** A playbook: its steps in order, and the steps that undo containment on release. */
export interface Playbook {
  name: string;
  steps: readonly Step[];
  release: readonly Step[];
}

/** The effect a step expected is not there after it acted: worth retrying. */
export class VerificationError extends Error {
  override readonly name = "VerificationError";
}

/**
 * There is nothing to do for this remediation, and that is not a failure: the instance is
 * terminated or gone. The remediation ends `skipped`. (An exemption tag on the live resource is
 * not a reason to skip: a workload may tag itself. See Step.holdFor.)
 */
export class SkipRemediation extends Error {
  override readonly name = "SkipRemediation";
  constructor(
    readonly reason: "resource_gone" | "resource_terminated",
    message: string,
  ) {
    super(message);
  }
}
