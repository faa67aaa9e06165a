import { remediationEvent } from "@gdr/core/notify/index";
import { accountRefusal } from "@gdr/core/policy/index";
import type { ApiDeps } from "../../deps.js";
import { HttpError } from "../../plugins/errors.js";

/** PUBLIC_URL's default (services/api/src/config.ts), for apps built without one. */
const DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080";

/** The decisions that lead to a change in AWS, and so must stay inside the allow list. */
export type GuardedAction = "approve" | "retry" | "release";

/**
 * Refuses a decision on a remediation whose account is no longer in the policy's `accounts.allow`
 * (it was allowed when the finding arrived; someone took it off since). Ingest checks the allow
 * list once, on arrival, and the worker before each change; the API checks again before it
 * enqueues anything, so an approval given after the account left never reaches a worker at all.
 *
 * A refusal changes nothing (the remediation keeps its status: it may still be rejected, or expire,
 * or the account come back), writes an audit event with the actor and the reason, tells people
 * through the notifier, and answers 403 `account_not_allowed`. A remediation that does not exist
 * passes: the decision's own 404 answers it.
 */
export async function refuseOutsideAllowList(
  deps: Pick<ApiDeps, "prisma" | "policy" | "notifier" | "publicUrl">,
  remediationId: string,
  action: GuardedAction,
  actor: string,
): Promise<void> {
  const r = await deps.prisma.remediation.findUnique({ where: { id: remediationId } });
  if (!r || accountRefusal(deps.policy, r.accountId) === null) return;
  const message = `account ${r.accountId} is not in the policy's accounts.allow; nothing is done in it (the ${action} was refused)`;
  await deps.prisma.auditEvent.create({
    data: {
      actor,
      action: `${action}.refused`,
      findingId: r.findingId,
      remediationId: r.id,
      detail: { reason: "account_not_allowed", accountId: r.accountId, status: r.status },
    },
  });
  const detail = `${action} by ${actor} refused: account_not_allowed (${r.accountId} left the allow list)`;
  deps.notifier?.notify(remediationEvent("refused", r, deps.publicUrl ?? DEFAULT_PUBLIC_URL, detail));
  throw new HttpError(403, "account_not_allowed", message);
}
