import type { PrismaClient } from "@prisma/client";
import { intInRange } from "../config/fields.js";
import type { Logger } from "../log.js";
import { remediationEvent, type Notifier } from "../notify/event.js";
import { startPeriodic } from "../periodic.js";
import { reportSetAside } from "../queues/outbox.js";
import type { RemediationQueues } from "../queues/queues.js";
import { expireApprovals, type ExpiryOptions } from "./expire.js";
import { planHold } from "./plan-fields.js";

/** WORKER_APPROVAL_SWEEP_MS: how often the worker ends approvals past their expiry (in its config). */
export const approvalSweepEnvFields = { WORKER_APPROVAL_SWEEP_MS: intInRange(1_000, 3_600_000, 30_000) };

export interface ApprovalSweeperDeps {
  prisma: PrismaClient;
  queues: RemediationQueues;
  logger: Logger;
  /** The policy's approval settings (expiry, expiryMs, onExpiry). */
  approval: Readonly<Pick<ExpiryOptions, "expiryMs" | "onExpiry">> & { readonly expiry: string };
  intervalMs: number;
  /** Tells people about each expired approval (kind `expired`), with a link under `publicUrl`. */
  notifier: Notifier;
  publicUrl: string;
}

export interface ApprovalSweeper {
  /** One sweep now (also what the timer runs); sweeps never overlap. */
  sweep(): Promise<void>;
  /** Stops the timer and waits for a sweep in progress. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Ends expired approvals every `intervalMs` (the timer is unref'd: it never keeps a process
 * alive). Safe with several workers sweeping at once: expireApprovals locks each row with SKIP
 * LOCKED and the approvals key admits one decision. A failing sweep is logged and tried again at
 * the next tick.
 */
export function startApprovalSweeper(deps: ApprovalSweeperDeps): ApprovalSweeper {
  const failed = (err: unknown): void => {
    deps.logger.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, "approval expiry sweep failed; retrying at the next tick");
  };
  const periodic = startPeriodic(deps.intervalMs, () => expireAndNotify(deps), failed);
  return { sweep: () => periodic.run().catch(failed), stop: () => periodic.stop() };
}

async function expireAndNotify(deps: ApprovalSweeperDeps): Promise<void> {
  const result = await expireApprovals(deps.prisma, deps.queues, { ...deps.approval });
  if (result.expired.length + result.contained.length > 0) {
    deps.logger.info({ expired: result.expired, contained: result.contained, onExpiry: deps.approval.onExpiry }, "approvals expired");
  }
  // A continuation the outbox set aside: its remediation failed with the reason; say so.
  await reportSetAside(deps.prisma, { logger: deps.logger, notifier: deps.notifier, publicUrl: deps.publicUrl }, result.setAside);
  if (result.expired.length > 0) await notifyExpired(deps, result.expired);
}

/** One `expired` notification per declined remediation, saying what the expiry left behind. */
async function notifyExpired(deps: ApprovalSweeperDeps, ids: readonly string[]): Promise<void> {
  const rows = await deps.prisma.remediation.findMany({ where: { id: { in: [...ids] } } });
  for (const r of rows) {
    // `expired`: the plan was to start containment. Otherwise the resource was contained already
    // (back to succeeded, or to failed for a release asked for after a later step failed).
    const left = r.status === "expired" ? "nothing was changed" : "the resource stays contained";
    // Under `contain`, a held plan was not contained: say why (the plan stays on the row).
    const hold = deps.approval.onExpiry === "contain" ? planHold(r.plan) : null;
    const why = hold === null ? "" : `; not contained on expiry, it was held for a person: ${hold}`;
    deps.notifier.notify(remediationEvent("expired", r, deps.publicUrl, `approval not decided within ${deps.approval.expiry}; ${left}${why}`));
  }
}
