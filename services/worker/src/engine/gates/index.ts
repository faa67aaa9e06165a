// The gates the engine passes before anything changes in AWS: the policy's account allow list
// (before every changing step, and before a plan is frozen) and GuardDuty's confirmation of the
// finding (once per remediation, before its first change). See ../runner.ts.
import { accountRefusal, type Policy } from "@gdr/core/policy/index";

export interface EngineGates {
  /** Why the worker's loaded policy forbids acting in this account now, or null. */
  accountRefusal(accountId: string): string | null;
  /** Confirm each finding with GuardDuty (GetFindings) before its first change (WORKER_CONFIRM_FINDINGS). */
  confirmFindings: boolean;
}

export function createEngineGates(policy: { readonly accounts: Pick<Policy["accounts"], "allow"> }, options: { confirmFindings: boolean }): EngineGates {
  return {
    accountRefusal: (accountId) => accountRefusal(policy, accountId),
    confirmFindings: options.confirmFindings,
  };
}

export { CONFIRM_STEP, confirmFinding, isConfirmed, unconfirmedReason } from "./confirm-finding.js";
