// Release: every interface back on the groups recorded before isolation.
import { ModifyNetworkInterfaceAttributeCommand } from "@aws-sdk/client-ec2";
import { SECURITY_GROUP_ID } from "@gdr/core/findings/patterns";
import type { StepContext } from "../../../engine/step.js";
import { isErrorCode } from "../errors.js";
import { expectId } from "../ids.js";
import { readEnisByIds, sameGroups } from "./enis.js";
import { groupIdOf, lockName, serviceGroups, type GroupContext } from "./groups.js";

export interface RestoreOutcome {
  /** Interfaces that hold their recorded groups again (changed now, or already). */
  restored: string[];
  /** Interfaces that no longer exist (a stopped task's ENI): reported, not an error. */
  gone: string[];
  /**
   * Interfaces whose recorded groups are only the service's own isolation groups: another
   * remediation had contained them (or was moving them) when this one recorded them. Putting them
   * "back" would contain them again after that remediation's release: left as they are.
   */
  leftContained: string[];
}

/** The interfaces whose groups differ from the recorded ones, those that are gone, and those left contained. */
export async function pendingRestorations(
  ctx: GroupContext,
  enis: readonly { id: string; previousGroupIds: string[] }[],
): Promise<{ pending: { id: string; groupIds: string[] }[]; gone: string[]; leftContained: string[] }> {
  const live = await readEnisByIds(ctx, enis.map((e) => e.id));
  const ours = await isolationGroupIds(ctx, [...new Set(live.map((e) => e.vpcId))]);
  const pending: { id: string; groupIds: string[] }[] = [];
  const gone: string[] = [];
  const leftContained: string[] = [];
  for (const recorded of enis) {
    const now = live.find((e) => e.id === recorded.id);
    if (!now) gone.push(recorded.id);
    else if (recorded.previousGroupIds.length > 0 && recorded.previousGroupIds.every((g) => ours.has(g))) leftContained.push(recorded.id);
    else if (!sameGroups(now.groupIds, recorded.previousGroupIds)) pending.push({ id: recorded.id, groupIds: recorded.previousGroupIds });
  }
  return { pending, gone, leftContained };
}

/** The ids of the service's usable containment and transit groups in these VPCs. */
async function isolationGroupIds(ctx: GroupContext, vpcIds: readonly string[]): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const vpcId of vpcIds) {
    for (const role of ["containment", "transit"] as const) {
      for (const group of (await serviceGroups(ctx, vpcId, role)).usable) ids.add(groupIdOf(group));
    }
  }
  return ids;
}

/**
 * Puts the recorded groups back, one call per interface that differs; idempotent. Per VPC, read and
 * changed holding the VPC's isolation lock (act mode): the sweep moves an interface a dead worker
 * left on transit on to containment holding that lock, and without it could read the interface on
 * transit, let this release put it back, and then move it into containment after all.
 */
export async function restoreEniGroups(ctx: StepContext, enis: readonly { id: string; previousGroupIds: string[] }[]): Promise<RestoreOutcome> {
  // Checked before any call, and before the lock: they come from the database.
  for (const { id, previousGroupIds } of enis) previousGroupIds.forEach((g) => expectId(SECURITY_GROUP_ID, g, `a recorded group of ${id}`));
  const vpcs = new Map<string, string>();
  for (const eni of await readEnisByIds(ctx, enis.map((e) => e.id))) vpcs.set(eni.id, eni.vpcId);
  const gone = enis.map((e) => e.id).filter((id) => !vpcs.has(id));
  const leftContained: string[] = [];
  for (const vpcId of [...new Set(vpcs.values())].sort()) {
    const inVpc = enis.filter((e) => vpcs.get(e.id) === vpcId);
    const locked = await ctx.withLock(lockName(vpcId), () => restoreLocked(ctx, inVpc));
    gone.push(...locked.gone);
    leftContained.push(...locked.leftContained);
  }
  return { restored: enis.map((e) => e.id).filter((id) => !gone.includes(id) && !leftContained.includes(id)), gone, leftContained };
}

/** The interfaces of one VPC: read again under the lock, then changed. Answers those gone meanwhile and those left contained. */
async function restoreLocked(ctx: StepContext, enis: readonly { id: string; previousGroupIds: string[] }[]): Promise<{ gone: string[]; leftContained: string[] }> {
  const { pending, gone, leftContained } = await pendingRestorations(ctx, enis);
  for (const { id, groupIds } of pending) {
    try {
      await ctx.change({ service: "ec2", family: "ec2-write", command: new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, Groups: groupIds }) });
    } catch (err) {
      // Deleted between the read and the change.
      if (!isErrorCode(err, "InvalidNetworkInterfaceID.NotFound")) throw err;
      gone.push(id);
    }
  }
  return { gone, leftContained };
}
