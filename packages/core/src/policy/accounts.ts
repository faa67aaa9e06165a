import type { Policy } from "./schema.js";

/**
 * Why the policy forbids acting in this account, or null when it allows it. One rule for every
 * place that asks: ingest when a finding arrives, the API before a decision that leads to a change,
 * and the worker before every change (queued or approved work must not outlive a removal).
 */
export function accountRefusal(policy: { readonly accounts: Pick<Policy["accounts"], "allow"> }, accountId: string): string | null {
  const allow = policy.accounts.allow;
  if (allow.includes("*") || allow.includes(accountId)) return null;
  return `account ${accountId} is not in the policy's accounts.allow`;
}
