// The isolation group's temporary all-traffic egress rule, recorded in Postgres: "opened" before
// it can exist on a group interfaces are moved into, "closed" once it is revoked. A worker that
// dies in between leaves an opened record without its close, which is how the egress sweep
// (../sweep/) knows where to look, in which account and region, even if no isolation ever
// happens in that VPC again. The records are audit events (append-only, detail jsonb): the
// trail of when every isolated instance of a VPC briefly had outbound access is worth keeping.
import type { Json, StepContext } from "../../../engine/step.js";

export const EGRESS_OPENED = "isolation.egress_opened";
export const EGRESS_CLOSED = "isolation.egress_closed";

/** Who closed it: the isolation that opened it, a later check of the group, or the sweep. */
export type ClosedBy = "isolation" | "check" | "sweep";

/** The detail of both records; one VPC's records are written under its isolation lock. */
export type EgressRecord = {
  accountId: string;
  region: string;
  vpcId: string;
  /** Opened: the group the rule goes on. Closed: the groups it was revoked from (may be none). */
  groupIds: string[];
};

type LedgerContext = Pick<StepContext, "audit" | "remediation">;

export async function recordOpened(ctx: LedgerContext, at: { vpcId: string; groupId: string }): Promise<void> {
  await ctx.audit(EGRESS_OPENED, detail(ctx, at.vpcId, [at.groupId]));
}

export async function recordClosed(ctx: LedgerContext, at: { vpcId: string; groupIds: string[]; by: ClosedBy }): Promise<void> {
  await ctx.audit(EGRESS_CLOSED, { ...detail(ctx, at.vpcId, at.groupIds), by: at.by });
}

function detail(ctx: LedgerContext, vpcId: string, groupIds: string[]): { [key: string]: Json } {
  const record: EgressRecord = { accountId: ctx.remediation.accountId, region: ctx.remediation.region, vpcId, groupIds };
  return record;
}
