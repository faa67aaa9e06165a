import type { AwsClients, AwsServiceName } from "@gdr/core/aws/clients";
import type { Logger } from "@gdr/core/log";
import type { PlaybookName } from "@gdr/core/queues/playbooks";
import type { RemediationMode } from "@gdr/core/queues/playbooks";
import type { Command, MetadataBearer } from "@smithy/types";
import type { z } from "zod";

/** JSON that can be stored in a jsonb column. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * One call that changes something, as shown in a frozen plan and hashed for approval (core's one
 * plan type). `service` is the client's name in the step context (`ec2`, `iam`, ... or an outside
 * client's name).
 */
export type { PlannedCall } from "@gdr/core/approvals/plan";

/**
 * A rate bucket name (`ec2-write`, `iam-write`, ...). Each playbook declares the families it calls
 * with their default buckets (Playbook.families); the engine refuses a family nobody declared.
 */
export type ApiFamily = string;

/** The remediation a step works for, as stored in Postgres. */
export interface RemediationRef {
  id: string;
  findingId: string;
  accountId: string;
  region: string;
  resourceKey: string;
  playbook: string;
  mode: RemediationMode;
  /**
   * The remediation that started this one (ctx.startRemediation), when a playbook did: what the
   * finding names is the parent's resource, so GuardDuty's confirmation is judged on it.
   */
  parent?: { id: string; playbook: string; resourceKey: string };
}

/** Any AWS SDK v3 command: the kit reads its input and its class (for the operation name). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK's own Command generics
export type AwsCommand<I extends object, O extends MetadataBearer> = Command<any, I, any, O, any>;

/**
 * A call that changes something, declared once. What happens to it depends on the mode the step
 * runs in (StepContext.mode): `act` sends it; `plan` records it for the frozen plan and sends
 * nothing; `dry_run` records it and checks it with EC2's `DryRun: true` where the service has one.
 */
export interface Change<I extends object, O extends MetadataBearer> {
  service: AwsServiceName;
  /** The rate bucket to take a token from before sending. */
  family: ApiFamily;
  command: AwsCommand<I, O>;
  /**
   * What plan and dry-run modes hand back instead of an answer, for act's later calls that use
   * the answer (a new group's id): build placeholders with the kit's `resultOf`. Omitted: an empty
   * answer.
   */
  planned?: Partial<O>;
  /**
   * AWS error codes the step takes as success (revoking a rule already gone, adding one already
   * there): a dry run that answers one of them reports the call as fine, not as "would fail". The
   * step still catches them itself when acting.
   */
  tolerates?: readonly string[];
}

/**
 * A change made through a non-AWS client. `planned` is what plan and dry-run mode hand back in
 * place of the answer: required unless the call answers nothing, so that act never reads an
 * answer that is not there.
 */
export type OutsideChange<T> = {
  service: string;
  family: ApiFamily;
  operation: string;
  params: JsonObject;
  send: (signal: AbortSignal) => Promise<T>;
} & (undefined extends T ? { planned?: T } : { planned: T });

/**
 * How a step runs: `act` changes AWS; `plan` and `dry_run` run the same act code with every
 * `change` recorded instead of sent (dry_run also checks permissions where AWS can), so what an
 * approver sees is what act sends. Reads are sent in every mode.
 */
export type StepMode = "act" | "plan" | "dry_run";

export interface StepContext {
  remediation: RemediationRef;
  /** The finding as received (`findings.raw`), for steps that need more than the resource key. */
  finding: JsonObject;
  mode: StepMode;
  /** AWS SDK clients for the remediation's account and region, built on first use. */
  aws: AwsClients;
  /**
   * A non-AWS client the playbook declared (Playbook.clients), e.g. the Kubernetes API of the
   * remediation's cluster: built on first use, closed when the worker stops.
   */
  client<T>(name: string): Promise<T>;
  /** Outputs of the steps that already finished in this remediation, by step name. */
  outputs: ReadonlyMap<string, Json>;
  /** Passed into every call (`{ abortSignal: ctx.signal }`): set when the worker stops. */
  signal: AbortSignal;
  logger: Logger;
  /** Sends a read (Describe*, Get*, List*) in every mode: token, abort signal, request id noted. */
  read<I extends object, O extends MetadataBearer>(service: AwsServiceName, family: ApiFamily, command: AwsCommand<I, O>): Promise<O>;
  /** A call that changes something: sent in act mode, recorded in plan and dry-run mode. */
  change<I extends object, O extends MetadataBearer>(call: Change<I, O>): Promise<O>;
  /**
   * Records a change made through a non-AWS client (plan and dry-run: recorded only; act: `send`
   * runs). The outside-client counterpart of `change`.
   */
  changeOutside<T>(call: OutsideChange<T>): Promise<T>;
  /**
   * Waits for a token of the account's bucket for an API family before a call the step sends
   * itself (read and change take theirs).
   */
  throttle(family: ApiFamily): Promise<void>;
  /** Records the AWS request id of a response, for the audit trail. */
  noteRequestId(requestId: string | undefined): void;
  /** Tags every resource the step creates or marks carries. */
  tags: { findingId: string; remediationId: string };
  /**
   * Runs `fn` holding a mutex shared by every worker process (Redis), e.g. around the shared
   * isolation group's add-egress → swap → revoke sequence in one VPC. Waits for the lock. In plan
   * and dry-run mode `fn` runs without it (nothing changes).
   */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Appends an audit event for this remediation now, not at the step's end: for a mark that must
   * be in Postgres before a risky call (the isolation group's temporary egress rule is recorded
   * as opened before it is added, so that a sweep finds it if the worker dies holding it). Does
   * nothing in plan and dry-run mode.
   */
  audit(action: string, detail: JsonObject): Promise<void>;
  /**
   * Whether this remediation recorded an audit event with this action before (ctx.audit, in an
   * earlier run of the step): how a step tells, after a crash, a change it was about to make from
   * one someone else made (the Credentials playbook marks a key it is deactivating).
   */
  marked(action: string): Promise<boolean>;
  /**
   * Starts another remediation of the same finding on a resource this playbook found (an ECS
   * task on bridge or host networking shares its EC2 host's network: the host gets an Instance
   * remediation). It is a remediation of its own: its row (linked to this one as its parent),
   * job, plan and approval, deduplicated on (finding, playbook, resource) like ingest's. Recorded
   * in plan and dry-run mode as the call `responder StartRemediation` (service and family
   * `responder`, which the playbook declares), carried out in act mode only. The new remediation
   * is confirmed with GuardDuty on its parent's resource, which is what the finding names.
   */
  startRemediation(request: StartRemediationRequest): Promise<StartedRemediation>;
}

export interface StartRemediationRequest {
  playbook: PlaybookName;
  /** What the new remediation acts on, in that playbook's key format (an instance id). */
  resourceKey: string;
  /**
   * How it runs. `approval` for anything that reaches beyond this resource (a shared host): the
   * policy chose this remediation's mode for this resource, not for its neighbours.
   */
  mode: Extract<RemediationMode, "approval" | "dry_run" | "notify">;
  /** Why, as people read it in the audit trail and the new remediation's record. */
  reason: string;
}

export interface StartedRemediation {
  remediationId: string;
  /** False when a remediation of this finding, playbook and resource existed already. */
  created: boolean;
}

/**
 * What a step found when it looked before acting. `note` says why nothing needs doing when the
 * reason is not that the step's effect is there already (the step does not apply: "not in an Auto
 * Scaling group"); it is recorded instead of "already done", so the record says what happened.
 */
export type CheckResult = { done: true; output: Json; note?: string } | { done: false; state?: Json };

/**
 * A step that could not do its work, said so (e.g. an API not offered in the region): recorded
 * with status `unavailable` and the reason, never as `succeeded`. The playbook carries on.
 * Return it from act with the kit's `notAvailable(reason, output)`.
 */
export interface NotAvailable {
  readonly [NOT_AVAILABLE]: true;
  /** Why, as people read it: "StartMalwareScan is not available in this region: ...". */
  readonly reason: string;
  readonly output: Json;
}

const NOT_AVAILABLE: unique symbol = Symbol("gdr.notAvailable");

export function notAvailable(reason: string, output: Json): NotAvailable {
  return { [NOT_AVAILABLE]: true, reason, output };
}

export function isNotAvailable(value: Json | NotAvailable): value is NotAvailable {
  return typeof value === "object" && value !== null && NOT_AVAILABLE in value;
}

/**
 * One step of a playbook, in a file of its own: `check → act → verify`.
 * - check reads AWS state and says whether the step's effect is already there (a re-run after a
 *   crash then records "skipped: already done" and changes nothing);
 * - act makes the change, idempotently (it may run again after a crash mid-act), through
 *   `ctx.change`: the engine derives the plan an approver sees and the dry-run from the same code,
 *   by running act with changes recorded instead of sent;
 * - verify re-reads AWS and throws VerificationError when the effect is not there.
 */
export interface Step {
  name: string;
  /** Waits at the approval gate in every mode. */
  destructive: boolean;
  /**
   * Reads and changes nothing (identify). Read-only steps run before a plan is frozen, so an
   * approver sees the exact calls built from the live state.
   */
  readOnly?: boolean;
  /**
   * Only checks (the final verification): a check that finds everything in place is recorded
   * `verified`, not "skipped: already done".
   */
  checkOnly?: boolean;
  /**
   * A read-only step that reads a lot (a hunt across every cluster of the account): the engine
   * asks GuardDuty to confirm the finding before it runs, as before a change, so that a forged
   * message cannot spend the account's API budget that real containment needs.
   */
  confirmFirst?: boolean;
  /** The shape of this step's output; the engine validates act's and check's output with it. */
  output: z.ZodType<Json>;
  check(ctx: StepContext): Promise<CheckResult>;
  act(ctx: StepContext, state: Json | undefined): Promise<Json | NotAvailable>;
  verify(ctx: StepContext, output: Json): Promise<void>;
  /**
   * What an approver must know beyond the calls, read from act's planned output (plan and dry-run
   * mode): e.g. the services left pointing at task definitions the step deregisters. Recorded as
   * the plan step's note.
   */
  planNote?(output: Json): string | null;
  /** Pre-state to keep for release (e.g. each ENI's groups), taken before act. */
  preState?(ctx: StepContext): Promise<Json>;
  /**
   * A read-only step's finding that a person must decide before anything changes, in every mode
   * (e.g. the live resource carries the exemption tag, which a compromised workload may have set
   * itself): the reason, or null. The engine then freezes the plan instead of acting.
   */
  holdFor?(output: Json): string | null;
}

// The playbook declaration and the errors a step throws live in files of their own; every step
// and playbook imports them from here.
export type { OutsideClientFactory, Playbook } from "./playbook.js";
export { EscalateRemediation, OutputShapeError, SkipRemediation, VerificationError } from "./step-errors.js";
