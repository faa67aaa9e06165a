import type { Policy } from "@gdr/core/policy/index";

/**
 * Why the worker may not act in this account under its loaded policy, or null when it may. Ingest
 * applies the same allow list when a finding arrives; the worker asks again before every change,
 * because work queued or approved earlier must not outlive an account's removal from the list.
 */
export function accountRefusal(policy: { readonly accounts: Pick<Policy["accounts"], "allow"> }, accountId: string): string | null {
  const allow = policy.accounts.allow;
  if (allow.includes("*") || allow.includes(accountId)) return null;
  return `account ${accountId} is not in the policy's accounts.allow`;
}
