// What isolation records in Postgres (audit events: append-only, detail jsonb) before and after
// the moves a dead worker could leave half-done, so that the sweep knows where to look, in which
// account and region, even if nothing else happens there again.
//
// - Transit marks: "entered" before an interface is moved onto its VPC's transit group, "left"
//   once it is off it (in containment, or put back after a refusal). An "entered" without its
//   "left" is an interface a dead worker may have left on the transit group, which carries
//   all-traffic egress: the sweep moves it on to containment (the remediation ran in act mode,
//   so containment was authorised).
// - The egress ledger of the previous procedure ("isolation.egress_opened/closed"): that
//   procedure put a temporary all-traffic rule on the shared group, today's containment group.
//   Nothing opens one any more; the check and the sweep still close what an old record left open.
import type { Json, StepContext } from "../../../engine/step.js";

export const EGRESS_OPENED = "isolation.egress_opened";
export const EGRESS_CLOSED = "isolation.egress_closed";

export const TRANSIT_ENTERED = "isolation.transit_entered";
export const TRANSIT_LEFT = "isolation.transit_left";

/** Who closed an old egress record: an isolation of the previous version, a check, or the sweep. */
export type ClosedBy = "isolation" | "check" | "sweep";

/** The detail of both egress records. */
export type EgressRecord = {
  accountId: string;
  region: string;
  vpcId: string;
  /** Opened: the group the rule went on. Closed: the groups it was revoked from (may be none). */
  groupIds: string[];
};

/** The detail of both transit marks. */
export type TransitRecord = {
  accountId: string;
  region: string;
  vpcId: string;
  eniId: string;
  transitGroupId: string;
  containmentGroupId: string;
};

/** Where an interface went when it left transit (or that it never got there). */
export type TransitExit = "containment" | "restored" | "unchanged" | "gone" | "elsewhere";

type LedgerContext = Pick<StepContext, "audit" | "remediation">;

export async function recordClosed(ctx: LedgerContext, at: { vpcId: string; groupIds: string[]; by: ClosedBy }): Promise<void> {
  const record: EgressRecord = { accountId: ctx.remediation.accountId, region: ctx.remediation.region, vpcId: at.vpcId, groupIds: at.groupIds };
  await ctx.audit(EGRESS_CLOSED, { ...record, by: at.by });
}

export type TransitAt = Omit<TransitRecord, "accountId" | "region">;

export async function markEnteringTransit(ctx: LedgerContext, at: TransitAt): Promise<void> {
  await ctx.audit(TRANSIT_ENTERED, transitDetail(ctx, at));
}

export async function markLeftTransit(ctx: LedgerContext, at: TransitAt, to: TransitExit): Promise<void> {
  await ctx.audit(TRANSIT_LEFT, { ...transitDetail(ctx, at), to });
}

function transitDetail(ctx: LedgerContext, at: TransitAt): { [key: string]: Json } {
  const record: TransitRecord = { accountId: ctx.remediation.accountId, region: ctx.remediation.region, ...at };
  return record;
}
