// The egress sweep: revokes an isolation group's temporary all-traffic egress rule that a worker
// left behind when it died mid-isolation, even if no isolation ever happens in that VPC again.
// It runs in every worker, on a timer. Where to look comes from the egress ledger in Postgres
// (opened, never closed); it acts only holding the VPC's isolation lock, taken without waiting:
// a taken lock means an isolation is in flight there, and its rule is not left over.
import type { AwsClientFactory } from "@gdr/core/aws/clients";
import type { PrismaClient } from "@gdr/core/db/client";
import type { Logger } from "@gdr/core/log";
import { startPeriodic } from "@gdr/core/periodic";
import { callsFor } from "../../../engine/calls.js";
import type { EngineLimits } from "../../../engine/deps.js";
import type { ResourceLocks } from "../../../engine/limits/index.js";
import { describeError } from "../../kit/errors.js";
import { hasServiceEgress } from "../shared/group-rules.js";
import { groupIdOf, lockName, revokeServiceEgress, serviceGroups, type GroupContext } from "../shared/isolation-group.js";
import { findOpenEgress, isStillOpen, recordSweptClosed, type OpenEgress } from "./open-egress.js";

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
  /** Open records younger than this are not looked at: the lock TTL (an isolation may hold them). */
  minAgeMs: number;
  /**
   * Why the worker may not act in an account (the policy's allow list), or null. The sweep obeys
   * it like every step: a record in an account taken off the list stays open (and is logged), so
   * the sweep acts if the account comes back; the rule is for a person to remove meanwhile.
   */
  accountRefusal(accountId: string): string | null;
}

export interface EgressSweepResult {
  /** VPCs whose open record was closed, with the groups a rule was revoked from. */
  closed: { vpcId: string; groupIds: string[] }[];
  /** VPCs left alone because their isolation lock is held (an isolation is in flight). */
  busy: string[];
  /** VPCs where the sweep failed (tried again at the next tick). */
  failed: string[];
  /** VPCs left alone because their account is not allowed any more. */
  refused: string[];
}

/** One pass over every open record; safe with several workers sweeping at once. */
export async function sweepLeftoverEgress(deps: EgressSweepDeps): Promise<EgressSweepResult> {
  const result: EgressSweepResult = { closed: [], busy: [], failed: [], refused: [] };
  for (const open of await findOpenEgress(deps.prisma, deps.minAgeMs)) {
    deps.signal.throwIfAborted();
    const refusal = deps.accountRefusal(open.accountId);
    if (refusal) {
      result.refused.push(open.vpcId);
      deps.logger.warn(
        { vpcId: open.vpcId, accountId: open.accountId, region: open.region, groupIds: open.groupIds, refusal },
        "an isolation group's temporary egress rule may be left open in an account the responder may not act in any more: remove it by hand",
      );
      continue;
    }
    const lock = await deps.locks.acquire(lockName(open.vpcId));
    if (!lock) {
      result.busy.push(open.vpcId);
      continue;
    }
    const stopKeepAlive = lock.keepAlive();
    try {
      // Another worker's sweep may have closed it between the query and the lock.
      if (!(await isStillOpen(deps.prisma, open))) continue;
      const groupIds = await closeVpc(deps, open, AbortSignal.any([deps.signal, lock.signal]));
      result.closed.push({ vpcId: open.vpcId, groupIds });
    } catch (err) {
      result.failed.push(open.vpcId);
      deps.logger.warn({ vpcId: open.vpcId, accountId: open.accountId, region: open.region, error: describeError(err) }, "egress sweep could not close a VPC; trying again at the next tick");
    } finally {
      stopKeepAlive();
      await lock.release().catch(() => false);
    }
  }
  return result;
}

/**
 * Under the VPC's lock: revokes all-traffic egress from every usable group of ours in the VPC,
 * and from the group the record names even if someone has since added other rules to it (we know
 * we opened that one; its other rules stay), then records the close.
 */
async function closeVpc(deps: EgressSweepDeps, open: OpenEgress, signal: AbortSignal): Promise<string[]> {
  const requestIds: string[] = [];
  // The same call path as a step's in act mode: a token per call, the abort signal, request ids.
  const calls = callsFor("act", {
    aws: await deps.aws.forTarget(open.accountId, open.region),
    signal,
    throttle: (family) => deps.throttle(open.accountId, family, signal),
    noteRequestId: (id) => {
      if (id) requestIds.push(id);
    },
  });
  const ctx: GroupContext = { read: calls.read, change: calls.change, logger: deps.logger, mode: "act" };
  const groups = await serviceGroups(ctx, open.vpcId);
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
      "revoked an isolation group's all-traffic egress rule left by a stopped isolation",
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
    if (!deps.signal.aborted) deps.logger.warn({ error: describeError(err) }, "egress sweep failed; retrying at the next tick");
    return undefined;
  };
  const periodic = startPeriodic(deps.intervalMs, () => sweepLeftoverEgress(deps), failed);
  return { sweep: () => periodic.run().catch(failed), stop: () => periodic.stop() };
}
