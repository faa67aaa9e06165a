// The isolation sweep, in every worker on a timer: finishes what a worker that died mid-isolation
// left open, even if nothing else ever happens in that VPC again.
// - An interface left on its VPC's transit group (a transit mark "entered" without its "left",
//   open-transit.ts): the transit group carries all-traffic egress, so it is moved on to the
//   containment group it was headed for. The remediation ran in act mode: containment was
//   authorised; the move is the one its own re-run would make.
// - A temporary all-traffic egress rule the previous, one-group procedure left on an isolation
//   group (today's containment group; an open record of its egress ledger, open-egress.ts): revoked.
// Each VPC is handled holding its isolation lock, taken without waiting: a taken lock means a
// worker is creating the VPC's groups or cleaning up there, and the VPC is looked at next tick.
import { ModifyNetworkInterfaceAttributeCommand } from "@aws-sdk/client-ec2";
import type { AwsClientFactory } from "@gdr/core/aws/clients";
import type { PrismaClient } from "@gdr/core/db/client";
import type { Logger } from "@gdr/core/log";
import { startPeriodic } from "@gdr/core/periodic";
import { callsFor } from "../../../engine/calls.js";
import type { EngineLimits } from "../../../engine/deps.js";
import type { ResourceLocks } from "../../../engine/limits/index.js";
import { describeError } from "../../kit/errors.js";
import { groupIdOf, preferredGroup, lockName, revokeServiceEgress, serviceGroups, type GroupContext } from "../../kit/isolation/groups.js";
import { readEnisByIds } from "../../kit/isolation/enis.js";
import { hasServiceEgress } from "../../kit/isolation/rules.js";
import type { TransitExit } from "../../kit/isolation/ledger.js";
import { findOpenEgress, isStillOpen, recordSweptClosed, type OpenEgress } from "./open-egress.js";
import { findOpenTransit, isStillInTransit, mayStillMove, recordSweptLeft, type OpenTransit } from "./open-transit.js";

export interface EgressSweepDeps {
  prisma: Pick<PrismaClient, "$queryRaw" | "auditEvent">;
  /** The same factory and rate limits steps use: the sweep acts in the record's account and region. */
  aws: Pick<AwsClientFactory, "forTarget">;
  throttle: EngineLimits["throttle"];
  /** The engine's named locks (the same Redis keys `ctx.withLock` takes). */
  locks: Pick<ResourceLocks, "acquire">;
  logger: Logger;
  /** Aborted when the worker stops: passed into every AWS call. */
  signal: AbortSignal;
  /** Records younger than this are not looked at: the lock TTL (an isolation may be in flight). */
  minAgeMs: number;
  /**
   * Why the worker may not act in an account (the policy's allow list), or null. The sweep obeys
   * it like every step: a record in an account taken off the list stays open (and is logged), so
   * the sweep acts if the account comes back; a person handles it meanwhile.
   */
  accountRefusal(accountId: string): string | null;
}

export interface EgressSweepResult {
  /** VPCs whose open egress record was closed, with the groups a rule was revoked from. */
  closed: { vpcId: string; groupIds: string[] }[];
  /** Interfaces whose transit mark was closed, and where they ended (containment: moved by the sweep). */
  moved: { eniId: string; vpcId: string; to: TransitExit }[];
  /** Interfaces not on transit whose remediation may still move them: their marks stay open. */
  pending: string[];
  /** VPCs left alone because their isolation lock is held. */
  busy: string[];
  /** VPCs (or interfaces) where the sweep failed (tried again at the next tick). */
  failed: string[];
  /** VPCs left alone because their account is not allowed any more. */
  refused: string[];
}

type Sweepable = { accountId: string; region: string; vpcId: string };

/** One pass over every open record; safe with several workers sweeping at once. */
export async function sweepLeftoverEgress(deps: EgressSweepDeps): Promise<EgressSweepResult> {
  const result: EgressSweepResult = { closed: [], moved: [], pending: [], busy: [], failed: [], refused: [] };
  for (const open of await findOpenTransit(deps.prisma, deps.minAgeMs)) {
    await underLock(deps, open, result, open.eniId, async (signal) => {
      if (!(await isStillInTransit(deps.prisma, open))) return;
      const to = await moveOn(deps, open, signal);
      if (to === null) result.pending.push(open.eniId);
      else result.moved.push({ eniId: open.eniId, vpcId: open.vpcId, to });
    });
  }
  for (const open of await findOpenEgress(deps.prisma, deps.minAgeMs)) {
    await underLock(deps, open, result, open.vpcId, async (signal) => {
      // Another worker's sweep may have closed it between the query and the lock.
      if (!(await isStillOpen(deps.prisma, open))) return;
      result.closed.push({ vpcId: open.vpcId, groupIds: await closeVpc(deps, open, signal) });
    });
  }
  return result;
}

async function underLock(
  deps: EgressSweepDeps,
  open: Sweepable,
  result: EgressSweepResult,
  what: string,
  fn: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  deps.signal.throwIfAborted();
  const refusal = deps.accountRefusal(open.accountId);
  if (refusal) {
    result.refused.push(open.vpcId);
    deps.logger.warn(
      { ...open, what, refusal },
      "an isolation left half-done (an interface on a transit group, or an egress rule on an isolation group) in an account the responder may not act in any more: handle it by hand",
    );
    return;
  }
  const lock = await deps.locks.acquire(lockName(open.vpcId));
  if (!lock) {
    result.busy.push(open.vpcId);
    return;
  }
  const stopKeepAlive = lock.keepAlive();
  try {
    await fn(AbortSignal.any([deps.signal, lock.signal]));
  } catch (err) {
    result.failed.push(what);
    deps.logger.warn({ ...open, what, error: describeError(err) }, "isolation sweep could not finish a record; trying again at the next tick");
  } finally {
    stopKeepAlive();
    await lock.release().catch(() => false);
  }
}

/** The same call path as a step's in act mode: a token per call, the abort signal, request ids. */
async function contextFor(deps: EgressSweepDeps, at: Sweepable, signal: AbortSignal): Promise<{ ctx: GroupContext; requestIds: string[] }> {
  const requestIds: string[] = [];
  const calls = callsFor("act", {
    aws: await deps.aws.forTarget(at.accountId, at.region),
    signal,
    throttle: (family) => deps.throttle(at.accountId, family, signal),
    noteRequestId: (id) => {
      if (id) requestIds.push(id);
    },
  });
  return { ctx: { read: calls.read, change: calls.change, logger: deps.logger, mode: "act" }, requestIds };
}

/**
 * An interface a dead worker left on transit: moved to the containment group its mark names, once
 * that group is ours (tagged, our name, no rule but all-traffic egress, which is revoked first),
 * else to the VPC's usable one. An interface that is gone, or is on other groups now (released,
 * changed by hand), is left as it is. Runs holding the VPC's lock, which a release's restore takes
 * too (kit/isolation/restore.ts): a release never has its interface moved back into containment
 * between the sweep's read and its move.
 */
async function moveOn(deps: EgressSweepDeps, open: OpenTransit, signal: AbortSignal): Promise<TransitExit | null> {
  const { ctx, requestIds } = await contextFor(deps, open, signal);
  const [eni] = await readEnisByIds(ctx, [open.eniId]);
  let to: TransitExit;
  if (!eni) to = "gone";
  else if (eni.groupIds.length === 1 && eni.groupIds[0] === open.containmentGroupId) to = "containment";
  else if (eni.vpcId !== open.vpcId || eni.groupIds.length !== 1 || eni.groupIds[0] !== open.transitGroupId) {
    // Not moved onto transit (yet), or moved elsewhere: left as it is; the mark stays open while
    // its remediation may still move it (open-transit.ts mayStillMove), looked at again next tick.
    if (await mayStillMove(deps.prisma, open.remediationId)) return null;
    to = "elsewhere";
  } else {
    // The group the mark names, else (gone, or someone has added a rule to it since: refused) the
    // VPC's usable containment group: an interface left on transit has all-traffic egress, so
    // waiting for a person is the worst place to leave it. Creating a group is left to isolation.
    const group = preferredGroup((await serviceGroups(ctx, open.vpcId, "containment")).usable, "containment", [open.containmentGroupId]);
    if (!group) {
      throw new Error(`no usable containment group in ${open.vpcId} (${open.containmentGroupId} is gone or holds rules the responder never adds): ${open.eniId} stays on transit until an isolation in that VPC creates one`);
    }
    if (hasServiceEgress(group)) await revokeServiceEgress(ctx, group);
    await ctx.change({
      service: "ec2",
      family: "ec2-write",
      command: new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: open.eniId, Groups: [groupIdOf(group)] }),
    });
    to = "containment";
    deps.logger.warn(
      { ...open, enteredAt: open.enteredAt },
      "moved a network interface a stopped isolation had left on its transit group (all-traffic egress) on to containment",
    );
  }
  await recordSweptLeft(deps.prisma, open, to, requestIds);
  return to;
}

/**
 * Under the VPC's lock: revokes all-traffic egress from every usable containment group of ours in
 * the VPC, and from the group the record names even if someone has since added other rules to it
 * (we know we opened that one; its other rules stay), then records the close.
 */
async function closeVpc(deps: EgressSweepDeps, open: OpenEgress, signal: AbortSignal): Promise<string[]> {
  const { ctx, requestIds } = await contextFor(deps, open, signal);
  const groups = await serviceGroups(ctx, open.vpcId, "containment");
  const recorded = groups.refused.filter((r) => open.groupIds.includes(groupIdOf(r.group))).map((r) => r.group);
  const revoked: string[] = [];
  for (const group of [...groups.usable, ...recorded]) {
    if (!hasServiceEgress(group)) continue;
    await revokeServiceEgress(ctx, group);
    revoked.push(groupIdOf(group));
  }
  if (revoked.length > 0) {
    deps.logger.warn(
      { vpcId: open.vpcId, accountId: open.accountId, region: open.region, groupIds: revoked, openedAt: open.openedAt, remediationId: open.remediationId },
      "revoked an isolation group's all-traffic egress rule left by a stopped isolation of the previous version",
    );
  }
  await recordSweptClosed(deps.prisma, open, revoked, requestIds);
  return revoked;
}

export interface EgressSweeper {
  /** One sweep now (also what the timer runs); sweeps in one process never overlap. */
  sweep(): Promise<EgressSweepResult | undefined>;
  /** Stops the timer and waits for a sweep in progress. Idempotent. */
  stop(): Promise<void>;
}

/** Sweeps every `intervalMs` (unref'd timer); a failing sweep is logged and tried at the next tick. */
export function startEgressSweeper(deps: EgressSweepDeps & { intervalMs: number }): EgressSweeper {
  const failed = (err: unknown): undefined => {
    if (!deps.signal.aborted) deps.logger.warn({ error: describeError(err) }, "isolation sweep failed; retrying at the next tick");
    return undefined;
  };
  const periodic = startPeriodic(deps.intervalMs, () => sweepLeftoverEgress(deps), failed);
  return { sweep: () => periodic.run().catch(failed), stop: () => periodic.stop() };
}
