// What is still wrong with a set of interfaces' isolation, read from AWS: the check and the final
// verification of a playbook that isolates (and the instance playbook's verify step).
import type { SecurityGroup } from "@aws-sdk/client-ec2";
import type { StepContext } from "../../../engine/step.js";
import { checkedEniState, type EniState } from "./enis.js";
import { closeLeftoverEgress, groupIdOf, lockName, serviceGroups, preferredGroup } from "./groups.js";
import { hasNoRules, hasServiceEgress } from "./rules.js";

export interface IsolationProblems {
  /** Empty when every interface is on its VPC's containment group only and that group has no rules. */
  problems: string[];
  /** VPC id → the containment group the interfaces were checked against (absent: none found). */
  containment: Map<string, string>;
}

/**
 * Reads each VPC's containment group (preferring one the interfaces are in) and the interfaces'
 * groups. In act mode an all-traffic egress rule found on a containment group (an open record of
 * the previous procedure's egress ledger) is revoked first, under the VPC's lock, and the record
 * closed: old records are still closed. Plan and dry-run only read.
 */
export async function isolationProblems(ctx: StepContext, given: readonly EniState[]): Promise<IsolationProblems> {
  const enis = given.map(checkedEniState);
  const problems: string[] = [];
  const containment = new Map<string, string>();
  for (const vpcId of [...new Set(enis.map((e) => e.vpcId))].sort()) {
    const inVpc = enis.filter((e) => e.vpcId === vpcId);
    const group = await containmentGroup(ctx, vpcId, inVpc.flatMap((e) => e.groupIds));
    if (!group) {
      problems.push(`no containment group in ${vpcId}`);
      continue;
    }
    const groupId = groupIdOf(group);
    containment.set(vpcId, groupId);
    if (!hasNoRules(group)) problems.push(`containment group ${groupId} has rules`);
    for (const eni of inVpc) {
      if (eni.groupIds.length !== 1 || eni.groupIds[0] !== groupId) problems.push(`${eni.id} has [${eni.groupIds.join(", ")}], not [${groupId}]`);
    }
  }
  return { problems, containment };
}

async function containmentGroup(ctx: StepContext, vpcId: string, prefer: readonly string[]): Promise<SecurityGroup | null> {
  const pick = async (): Promise<{ group: SecurityGroup | null; all: SecurityGroup[] }> => {
    const usable = (await serviceGroups(ctx, vpcId, "containment")).usable;
    return { group: preferredGroup(usable, "containment", prefer), all: usable };
  };
  const first = await pick();
  if (ctx.mode !== "act" || !first.all.some(hasServiceEgress)) return first.group;
  // Read again under the lock: what a worker of the previous version may be doing is finished then.
  return ctx.withLock(lockName(vpcId), async () => {
    const again = await pick();
    await closeLeftoverEgress(ctx, vpcId, again.all, "check");
    return again.group;
  });
}
