// The step context a job's steps run with, in each mode: act sends, plan and dry-run record.
import type { AwsClients } from "@gdr/core/aws/clients";
import { callsFor } from "./calls.js";
import type { EngineDeps } from "./deps.js";
import type { RecordingContext } from "./derive.js";
import { resultOf } from "./placeholders.js";
import type { Json, StartedRemediation, StepMode } from "./step.js";
import type { LoadedRemediation } from "./store.js";

/** The service and rate family of the responder's own changes (ctx.startRemediation). */
export const RESPONDER_SERVICE = "responder";

/** The pieces of a step context that do not depend on the mode, resolved once per job. */
export interface ContextBase {
  loaded: LoadedRemediation;
  aws: AwsClients;
  signal: AbortSignal;
  deps: EngineDeps;
  /** The request ids of the step running now (emptied when a step starts). */
  requestIds: string[];
}

export type JobContext = RecordingContext & { requestIds: string[] };

export async function baseFor(loaded: LoadedRemediation, signal: AbortSignal, deps: EngineDeps): Promise<ContextBase> {
  const aws = await deps.aws.forTarget(loaded.ref.accountId, loaded.ref.region);
  return { loaded, aws, signal, deps, requestIds: [] };
}

/**
 * A step context in a mode. Plan and dry-run contexts record changes instead of sending them, take
 * no lock and write no audit event: they must change nothing.
 */
export function contextFor(base: ContextBase, mode: StepMode, outputs: ReadonlyMap<string, Json>): JobContext {
  const { loaded, aws, signal, deps, requestIds } = base;
  const throttle = (family: string): Promise<void> => deps.limits.throttle(loaded.ref.accountId, family, signal);
  const noteRequestId = (id: string | undefined): void => {
    if (id) requestIds.push(id);
  };
  const calls = callsFor(mode, { aws, signal, throttle, noteRequestId });
  const acting = mode === "act";
  return {
    remediation: loaded.ref,
    finding: loaded.finding,
    mode,
    aws,
    client: (name) => deps.outsideClient(loaded.ref, name, signal),
    outputs,
    signal,
    logger: deps.logger.child({ remediationId: loaded.ref.id, findingId: loaded.ref.findingId, resource: loaded.ref.resourceKey, mode }),
    read: calls.read,
    change: calls.change,
    changeOutside: calls.changeOutside,
    recorded: calls.recorded,
    throttle,
    noteRequestId,
    tags: { findingId: loaded.ref.findingId, remediationId: loaded.ref.id },
    withLock: (name, fn) => (acting ? deps.limits.withLock(name, fn) : fn()),
    audit: (action, detail) => (acting ? deps.store.audit(loaded.ref.id, "worker", action, detail) : Promise.resolve()),
    marked: (action) => deps.store.hasAudit(loaded.ref.id, action),
    // A row in Postgres, not an AWS call, but an approver must see it in the plan like one.
    startRemediation: (request) =>
      calls.changeOutside<StartedRemediation>({
        service: RESPONDER_SERVICE,
        family: RESPONDER_SERVICE,
        operation: "StartRemediation",
        params: { playbook: request.playbook, resourceKey: request.resourceKey, mode: request.mode, reason: request.reason },
        planned: { remediationId: resultOf("StartRemediation", "remediationId", `${request.playbook} ${request.resourceKey}`), created: true },
        send: () => deps.startRemediation(loaded.ref, request),
      }),
    requestIds,
  };
}
