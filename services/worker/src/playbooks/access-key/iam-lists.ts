// IAM's paginated lists (Marker / IsTruncated), read to a cap: the evidence a remediation records
// must not turn into thousands of calls against the account's one IAM rate.
import { ListAttachedRolePoliciesCommand, ListAttachedUserPoliciesCommand, ListRolePoliciesCommand, ListUserPoliciesCommand } from "@aws-sdk/client-iam";
import type { StepContext } from "../kit/index.js";
import { IAM_READ } from "./families.js";
import { isNoSuchEntity } from "./iam-errors.js";

const MAX_PAGES = 5;

interface Page<T> {
  items: T[];
  marker: string | undefined;
}

async function readPages<T>(fetch: (marker: string | undefined) => Promise<Page<T>>): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  let marker: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const got = await fetch(marker);
    items.push(...got.items);
    marker = got.marker;
    if (marker === undefined) return { items, truncated: false };
  }
  return { items, truncated: true };
}

const next = (out: { IsTruncated?: boolean | undefined; Marker?: string | undefined }): string | undefined => (out.IsTruncated === true ? out.Marker : undefined);

export interface PolicyNames {
  attached: string[];
  inline: string[];
  truncated: boolean;
}

export async function userPolicies(ctx: StepContext, userName: string): Promise<PolicyNames> {
  const attached = await readPages(async (Marker) => {
    const out = await ctx.read("iam", IAM_READ, new ListAttachedUserPoliciesCommand({ UserName: userName, Marker }));
    return { items: (out.AttachedPolicies ?? []).map((p) => p.PolicyArn ?? p.PolicyName ?? "?"), marker: next(out) };
  });
  const inline = await readPages(async (Marker) => {
    const out = await ctx.read("iam", IAM_READ, new ListUserPoliciesCommand({ UserName: userName, Marker }));
    return { items: out.PolicyNames ?? [], marker: next(out) };
  });
  return { attached: attached.items, inline: inline.items, truncated: attached.truncated || inline.truncated };
}

export async function rolePolicies(ctx: StepContext, roleName: string): Promise<PolicyNames> {
  const attached = await readPages(async (Marker) => {
    const out = await ctx.read("iam", IAM_READ, new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker }));
    return { items: (out.AttachedPolicies ?? []).map((p) => p.PolicyArn ?? p.PolicyName ?? "?"), marker: next(out) };
  });
  const inline = await roleInlinePolicies(ctx, roleName);
  return { attached: attached.items, inline: inline.items, truncated: attached.truncated || inline.truncated };
}

/** The names of a role's inline policies, read to the cap (evidence, and our revocations on it). */
function roleInlinePolicies(ctx: StepContext, roleName: string): Promise<{ items: string[]; truncated: boolean }> {
  return readPages(async (Marker) => {
    const out = await ctx.read("iam", IAM_READ, new ListRolePoliciesCommand({ RoleName: roleName, Marker }));
    return { items: out.PolicyNames ?? [], marker: next(out) };
  });
}

/**
 * The revocation policies of this service on a role (inline policies named with our prefix), read
 * to the cap: release says which remain, since each still denies the sessions older than its
 * cutoff. `truncated` says when the list stopped at the cap.
 */
export async function revokePoliciesOn(ctx: StepContext, roleName: string, prefix: string): Promise<{ names: string[]; truncated: boolean }> {
  let inline;
  try {
    inline = await roleInlinePolicies(ctx, roleName);
  } catch (err) {
    // The role is gone, and every policy with it.
    if (isNoSuchEntity(err)) return { names: [], truncated: false };
    throw err;
  }
  return { names: inline.items.filter((n) => n.startsWith(prefix)).sort(), truncated: inline.truncated };
}
