// Release: every interface back on the groups recorded before isolation.
import { ModifyNetworkInterfaceAttributeCommand } from "@aws-sdk/client-ec2";
import { SECURITY_GROUP_ID } from "@gdr/core/findings/patterns";
import type { StepContext } from "../../../engine/step.js";
import { isErrorCode } from "../errors.js";
import { expectId } from "../ids.js";
import { readEnisByIds, sameGroups } from "./enis.js";

export interface RestoreOutcome {
  /** Interfaces that hold their recorded groups again (changed now, or already). */
  restored: string[];
  /** Interfaces that no longer exist (a stopped task's ENI): reported, not an error. */
  gone: string[];
}

/** The interfaces whose groups differ from the recorded ones, and those that are gone. */
export async function pendingRestorations(
  ctx: Pick<StepContext, "read">,
  enis: readonly { id: string; previousGroupIds: string[] }[],
): Promise<{ pending: { id: string; groupIds: string[] }[]; gone: string[] }> {
  const live = await readEnisByIds(ctx, enis.map((e) => e.id));
  const pending: { id: string; groupIds: string[] }[] = [];
  const gone: string[] = [];
  for (const recorded of enis) {
    const now = live.find((e) => e.id === recorded.id);
    if (!now) gone.push(recorded.id);
    else if (!sameGroups(now.groupIds, recorded.previousGroupIds)) pending.push({ id: recorded.id, groupIds: recorded.previousGroupIds });
  }
  return { pending, gone };
}

/** Puts the recorded groups back, one call per interface that differs; idempotent. */
export async function restoreEniGroups(ctx: StepContext, enis: readonly { id: string; previousGroupIds: string[] }[]): Promise<RestoreOutcome> {
  const { pending, gone } = await pendingRestorations(ctx, enis);
  for (const { id, groupIds } of pending) {
    const groups = groupIds.map((g) => expectId(SECURITY_GROUP_ID, g, `a recorded group of ${id}`));
    try {
      await ctx.change({ service: "ec2", family: "ec2-write", command: new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, Groups: groups }) });
    } catch (err) {
      // Deleted between the read and the change.
      if (!isErrorCode(err, "InvalidNetworkInterfaceID.NotFound")) throw err;
      gone.push(id);
    }
  }
  return { restored: enis.map((e) => e.id).filter((id) => !gone.includes(id)), gone };
}
