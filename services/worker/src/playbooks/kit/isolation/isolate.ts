// original → transit → containment, for every interface given: the two-group procedure of AWS's
// AWSSupport-ContainEC2Instance runbook. Nothing contained ever sits on a group with a rule: the
// containment group never holds one, and the transit group's rule (groups.ts ALL_TRAFFIC_EGRESS)
// is only ever seen by an interface on its way in.
//
// Locks. Creating a VPC's groups (and revoking a leftover rule from its containment group) runs
// under the VPC's lock, so two workers never create two pairs and never revoke under each other.
// Moving interfaces takes no lock: the transit rule is permanent and the containment group never
// changes, so one interface's move changes nothing any other interface sees, and the engine's
// per-resource lock already keeps two remediations off one resource. (The lock keeps the previous
// procedure's name, `isolation-sg:<vpc>`, so that a worker of the previous version, which adds and
// revokes its temporary rule under that lock, never does so while this one cleans up.)
//
// Crash safety. An interface is marked (ledger.ts) before it moves onto the transit group and
// after it leaves it. A re-run reads the interfaces as they are: one on containment only is done,
// one on transit only moves on, any other starts from the beginning. A mark without its "left"
// is how the sweep finds an interface a dead worker left on the transit group.
//
// Plan and dry-run mode run this same code with the changes recorded (no lock, no marks): a group
// act would create is named by its placeholder, one per VPC and role.
import { ModifyNetworkInterfaceAttributeCommand } from "@aws-sdk/client-ec2";
import { SECURITY_GROUP_ID, VPC_ID } from "@gdr/core/findings/patterns";
import type { StepContext } from "../../../engine/step.js";
import { classifyAwsError, describeError } from "../errors.js";
import { expectId } from "../ids.js";
import type { EniState } from "./enis.js";
import { checkedEniState, sameGroups } from "./enis.js";
import { ensureGroupsLocked, groupNotVisibleOr, lockName, type VpcGroups } from "./groups.js";
import { markEnteringTransit, markLeftTransit, type TransitAt } from "./ledger.js";

export interface IsolationOutcome {
  /** Per VPC, the two groups used (created: either was created by this call). */
  groups: VpcGroups[];
  /** Every interface given, with the groups it had before (previousGroupsOf). */
  enis: { id: string; vpcId: string; previousGroupIds: string[] }[];
}

/**
 * AWS refused changing an interface's groups: a fatal answer to ModifyNetworkInterfaceAttribute
 * (core's classifier), e.g. on an ECS-managed task ENI. Every interface this isolation had moved
 * was put back on its previous groups where possible (`restored` says whether all were); the
 * refused one itself never reached containment.
 */
export class EniChangeRefused extends Error {
  override readonly name = "EniChangeRefused";
  constructor(
    readonly eniId: string,
    readonly code: string,
    readonly awsMessage: string,
    readonly restored: boolean,
  ) {
    super(`AWS refused changing the security groups of ${eniId}: ${code}${restored ? "" : " (not every interface could be put back)"}`);
  }
}

/**
 * Fatal answers that are not a refusal of the change itself: the interface or a group is not
 * there (gone, or a new group not visible yet). The caller's error handling decides; a group not
 * there is thrown as a VerificationError (groups.ts groupNotVisibleOr), so that the step is retried.
 */
const NOT_A_REFUSAL = new Set(["InvalidNetworkInterfaceID.NotFound", "InvalidGroup.NotFound", "InvalidGroupId.Malformed"]);

/**
 * Finds or creates the VPC's groups, under the VPC's lock in act mode (see the top of this file).
 * `prefer`: group ids to take first among several usable ones (the groups the interfaces are on
 * already: a re-run keeps an interface where it is).
 */
export async function ensureVpcGroups(ctx: StepContext, vpcId: string, prefer: readonly string[] = []): Promise<VpcGroups> {
  const vpc = expectId(VPC_ID, vpcId, "the VPC to isolate in");
  return ctx.withLock(lockName(vpc), () => ensureGroupsLocked(ctx, vpc, prefer));
}

function only(groupIds: readonly string[], groupId: string): boolean {
  return groupIds.length === 1 && groupIds[0] === groupId;
}

/**
 * Moves every interface original → transit → containment; idempotent (a re-run finds each where
 * it is and carries on from there). `previousGroupsOf` names the groups to record (and to put back
 * on a refusal): the caller's pre-state, usually. Throws EniChangeRefused on a refusal; any other
 * error is thrown as it is (a retryable one leaves at most one interface on transit, with its
 * mark: the retry, or the sweep, moves it on).
 */
export async function isolateEnis(
  ctx: StepContext,
  given: readonly EniState[],
  previousGroupsOf: (eni: EniState) => string[],
): Promise<IsolationOutcome> {
  // Every identifier checked before any call, whoever built the states and the recorded groups
  // (a caller's pre-state comes from the database): the put-back after a refusal sends them too.
  const enis = given.map(checkedEniState);
  const previous = new Map(enis.map((e) => [e.id, previousGroupsOf(e).map((g) => expectId(SECURITY_GROUP_ID, g, `a recorded group of ${e.id}`))]));
  const previousOf = (eni: EniState): string[] => previous.get(eni.id) ?? [];
  const outcome: IsolationOutcome = { groups: [], enis: [] };
  // Where each interface is now, as this call changed it: what a refusal puts back.
  const now = new Map(enis.map((e) => [e.id, [...e.groupIds]]));
  for (const vpcId of [...new Set(enis.map((e) => e.vpcId))].sort()) {
    const groups = await ensureVpcGroups(ctx, vpcId, enis.filter((e) => e.vpcId === vpcId).flatMap((e) => e.groupIds));
    outcome.groups.push(groups);
    for (const eni of enis.filter((e) => e.vpcId === vpcId)) {
      outcome.enis.push({ id: eni.id, vpcId, previousGroupIds: previousOf(eni) });
      await moveThrough(ctx, eni, groups, now, enis, previousOf);
    }
  }
  if (ctx.mode === "act") {
    ctx.logger.info({ groups: outcome.groups, interfaces: outcome.enis.map((e) => e.id) }, "network interfaces contained");
  }
  return outcome;
}

async function moveThrough(
  ctx: StepContext,
  eni: EniState,
  groups: VpcGroups,
  now: Map<string, string[]>,
  all: readonly EniState[],
  previousGroupsOf: (eni: EniState) => string[],
): Promise<void> {
  if (only(eni.groupIds, groups.containmentGroupId)) return;
  const at: TransitAt = { vpcId: groups.vpcId, eniId: eni.id, transitGroupId: groups.transitGroupId, containmentGroupId: groups.containmentGroupId };
  if (!only(eni.groupIds, groups.transitGroupId)) {
    // Marked before the move: a worker that dies from here on leaves a mark the sweep acts on.
    await markEnteringTransit(ctx, at);
    try {
      await setGroups(ctx, eni.id, [groups.transitGroupId]);
    } catch (err) {
      const thrown = await refusalOr(ctx, err, eni.id, now, all, previousGroupsOf);
      // A refusal changed nothing: the mark is closed. Any other failure may have been applied
      // (a 5xx or a timeout after AWS acted): the mark stays open, for the retry or the sweep,
      // which read where the interface really is.
      if (thrown instanceof EniChangeRefused) await markLeftTransit(ctx, at, "unchanged");
      throw thrown;
    }
    now.set(eni.id, [groups.transitGroupId]);
  }
  try {
    await setGroups(ctx, eni.id, [groups.containmentGroupId]);
  } catch (err) {
    // A retryable failure leaves the interface on transit with its mark open, for the retry or
    // the sweep; a refusal puts it back (refusalOr).
    throw await refusalOr(ctx, err, eni.id, now, all, previousGroupsOf, at);
  }
  now.set(eni.id, [groups.containmentGroupId]);
  await markLeftTransit(ctx, at, "containment");
}

async function setGroups(ctx: StepContext, eniId: string, groupIds: string[]): Promise<void> {
  await ctx.change({
    service: "ec2",
    family: "ec2-write",
    command: new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Groups: groupIds }),
  });
}

/**
 * The error to throw: EniChangeRefused when AWS refused the change (after putting back every
 * interface this call moved), else the error itself.
 */
async function refusalOr(
  ctx: StepContext,
  err: unknown,
  eniId: string,
  now: Map<string, string[]>,
  all: readonly EniState[],
  previousGroupsOf: (eni: EniState) => string[],
  openMark?: TransitAt,
): Promise<unknown> {
  const c = classifyAwsError(err);
  if (c.kind !== "fatal" || NOT_A_REFUSAL.has(c.code)) return groupNotVisibleOr(err);
  let restored = true;
  for (const eni of all) {
    const previous = previousGroupsOf(eni);
    const current = now.get(eni.id) ?? eni.groupIds;
    if (sameGroups(current, previous)) continue;
    try {
      await setGroups(ctx, eni.id, previous);
      now.set(eni.id, previous);
      if (openMark && eni.id === eniId) await markLeftTransit(ctx, openMark, "restored");
    } catch (putBack) {
      restored = false;
      ctx.logger.warn({ eniId: eni.id, error: describeError(putBack) }, "could not put an interface back on its groups after a refusal");
    }
  }
  ctx.logger.warn({ eniId, code: c.code, restored }, "AWS refused changing a network interface's security groups");
  return new EniChangeRefused(eniId, c.code, c.message, restored);
}
