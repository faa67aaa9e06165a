// Step 3: isolation, as early as it is safe (right after the instance left its Auto Scaling
// group). Every interface of the instance is moved to the VPC's isolation group: first while the
// group holds its temporary all-traffic egress rule, then the rule is revoked, so the group ends
// with no rules at all (see shared/isolation-group.ts for why). The group is shared by every
// instance isolated in the VPC; the add → swap → revoke sequence runs under a lock per VPC.
//
// Crash-safety: nothing here is recorded half-way. A re-run reads the interfaces and the group as
// they are now: if every interface has exactly the isolation group and the group has no rules,
// the step is done; otherwise act runs the whole sequence again, which is harmless (adding a rule
// that exists and swapping an interface to the group it has are both no-ops in effect).
//
// The temporary rule is the one thing a crash could leave behind that opens every isolated
// instance of the VPC: it is recorded as opened in Postgres before it is added and closed after
// it is revoked (shared/egress-ledger.ts), a failure mid-sequence still revokes it, and what a
// dead worker left is revoked by the next look at the group under the lock or by the sweep.
//
// In plan and dry-run mode the same code runs with its changes recorded (and no lock, no ledger
// record): a group act would create is named by the placeholder "(the group CreateSecurityGroup
// returns)" in the calls after it, and nothing waits on what a recorded change would have done.
import {
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  type ModifyNetworkInterfaceAttributeCommandInput,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../engine/step.js";
import { describeError } from "../kit/errors.js";
import { parseOutput } from "../kit/json.js";
import { recordClosed, recordOpened } from "./shared/egress-ledger.js";
import { hasAllTrafficEgress, hasNoRules } from "./shared/group-rules.js";
import { NETWORK_INTERFACE_ID, SECURITY_GROUP_ID, VPC_ID, instanceIdOf } from "./shared/ids.js";
import { readEnis, type EniState } from "./shared/instance.js";
import {
  authorizeAllTraffic,
  ensureIsolationGroup,
  groupIdOf,
  lockName,
  revokeAllTraffic,
  revokeV6Default,
  settledIsolationGroup,
  strayV6Revocation,
} from "./shared/isolation-group.js";
import { STEP } from "./shared/names.js";
import { recordedPreState } from "./shared/pre-state.js";
import { idOf } from "../kit/schema.js";

/**
 * What isolate recorded (read back by its check and verify): every id is checked again, since it
 * comes from the database, not from AWS.
 */
export const isolateOutput = z.object({
  /** The isolation group of the instance's own VPC (its primary interface's). */
  isolationGroupId: idOf(SECURITY_GROUP_ID),
  groups: z.array(z.object({ vpcId: idOf(VPC_ID), groupId: idOf(SECURITY_GROUP_ID), created: z.boolean() })),
  enis: z.array(z.object({ id: idOf(NETWORK_INTERFACE_ID), vpcId: idOf(VPC_ID), previousGroupIds: z.array(idOf(SECURITY_GROUP_ID)) })),
});

export type IsolateOutput = z.infer<typeof isolateOutput>;

function vpcsOf(enis: readonly EniState[]): string[] {
  return [...new Set(enis.map((e) => e.vpcId))].sort();
}

/** The groups an interface had before this remediation: identify's record, else what it has now. */
function previousGroups(ctx: StepContext, eni: EniState): string[] {
  return recordedPreState(ctx)?.enis.find((e) => e.id === eni.id)?.groupIds ?? eni.groupIds;
}

function swapInput(eniId: string, groupId: string): ModifyNetworkInterfaceAttributeCommandInput {
  return { NetworkInterfaceId: eniId, Groups: [groupId] };
}

function output(
  ctx: StepContext,
  enis: readonly EniState[],
  groups: IsolateOutput["groups"],
): IsolateOutput {
  const primaryVpc = enis[0]?.vpcId ?? recordedPreState(ctx)?.vpcId;
  const primary = groups.find((g) => g.vpcId === primaryVpc) ?? groups[0];
  if (!primary) throw new VerificationError("the instance has no network interface to isolate");
  return {
    isolationGroupId: primary.groupId,
    groups,
    enis: enis.map((e) => ({ id: e.id, vpcId: e.vpcId, previousGroupIds: previousGroups(ctx, e) })),
  };
}

/** What is still wrong, per VPC: empty when every interface is isolated by a rule-less group. */
async function problems(
  ctx: StepContext,
  enis: readonly EniState[],
): Promise<{ problems: string[]; groups: Map<string, SecurityGroup> }> {
  const found: string[] = [];
  const groups = new Map<string, SecurityGroup>();
  for (const vpcId of vpcsOf(enis)) {
    const inVpc = enis.filter((e) => e.vpcId === vpcId);
    // Any usable group of ours isolates: prefer the one the interfaces are in already.
    const group = await settledIsolationGroup(ctx, vpcId, inVpc.flatMap((e) => e.groupIds));
    if (!group) {
      found.push(`no isolation group in ${vpcId}`);
      continue;
    }
    groups.set(vpcId, group);
    const groupId = groupIdOf(group);
    if (!hasNoRules(group)) found.push(`isolation group ${groupId} still has rules`);
    for (const eni of inVpc) {
      if (eni.groupIds.length !== 1 || eni.groupIds[0] !== groupId) {
        found.push(`${eni.id} has [${eni.groupIds.join(", ")}], not [${groupId}]`);
      }
    }
  }
  return { problems: found, groups };
}

export const isolate: Step = {
  name: STEP.isolate,
  destructive: false,
  output: isolateOutput,

  async check(ctx): Promise<CheckResult> {
    const enis = await readEnis(ctx, instanceIdOf(ctx));
    if (enis.length === 0) return { done: false };
    const found = await problems(ctx, enis);
    if (found.problems.length > 0) return { done: false, state: found.problems };
    const groups = [...found.groups].map(([vpcId, group]) => ({ vpcId, groupId: groupIdOf(group), created: false }));
    return { done: true, output: output(ctx, enis, groups) };
  },

  async act(ctx) {
    const instanceId = instanceIdOf(ctx);
    const before = await readEnis(ctx, instanceId);
    const groups: IsolateOutput["groups"] = [];
    const swapped: EniState[] = [];
    for (const vpcId of vpcsOf(before)) {
      // One VPC at a time, never two locks held at once: no lock-order deadlock between workers.
      await ctx.withLock(lockName(vpcId), async () => {
        // Read again under the lock: the interfaces are what they are now, not before the wait.
        const enis = (await readEnis(ctx, instanceId)).filter((e) => e.vpcId === vpcId);
        const ensured = await ensureIsolationGroup(ctx, vpcId);
        // Recorded before the rule is added and before any interface moves in (a group created
        // just now holds the rule already, but nothing is in it yet): a worker that dies from
        // here on leaves a record the sweep acts on.
        await recordOpened(ctx, { vpcId, groupId: ensured.groupId });
        try {
          if (ensured.group) {
            // An existing group of ours holds nothing but all-traffic egress (or it would not
            // have been chosen): drop an IPv6 default, make sure the temporary rule is there.
            const stray = strayV6Revocation(ensured.group);
            if (stray) await ctx.change({ service: "ec2", family: "ec2-write", command: new RevokeSecurityGroupEgressCommand(stray) });
            if (!hasAllTrafficEgress(ensured.group)) await authorizeAllTraffic(ctx, ensured.groupId);
          } else {
            // A group created just now holds the default egress rules: IPv4 all-traffic, which is
            // the temporary rule, and in a VPC with IPv6 also `::/0`, which goes before anything
            // moves in (the revoke at the end takes only the IPv4 rule).
            await revokeV6Default(ctx, ensured.groupId);
          }
          for (const eni of enis) {
            await ctx.change({
              service: "ec2",
              family: "ec2-write",
              command: new ModifyNetworkInterfaceAttributeCommand(swapInput(eni.id, ensured.groupId)),
            });
          }
        } catch (err) {
          // Failed half-way: the interfaces moved so far must not keep the rule until a retry.
          // If the revoke fails too (AWS unreachable, the worker stopping), the record stays
          // open and the next check under the lock or the sweep revokes it.
          try {
            await revokeAllTraffic(ctx, ensured.groupId);
            // The IPv6 default of a group created just now, if its revoke above is what failed.
            if (!ensured.group) await revokeV6Default(ctx, ensured.groupId);
            await recordClosed(ctx, { vpcId, groupIds: [ensured.groupId], by: "isolation" });
          } catch (cleanupErr) {
            ctx.logger.warn(
              { vpcId, groupId: ensured.groupId, error: describeError(cleanupErr) },
              "could not revoke the temporary egress rule after a failed isolation (or record it); left for the check under the lock and the sweep",
            );
          }
          throw err;
        }
        await revokeAllTraffic(ctx, ensured.groupId);
        await recordClosed(ctx, { vpcId, groupIds: [ensured.groupId], by: "isolation" });
        groups.push({ vpcId, groupId: ensured.groupId, created: ensured.created });
        swapped.push(...enis);
      });
    }
    if (ctx.mode === "act") ctx.logger.info({ instanceId, groups, interfaces: swapped.map((e) => e.id) }, "instance isolated");
    return output(ctx, swapped, groups);
  },

  async verify(ctx, recorded) {
    const expected = parseOutput(isolateOutput, recorded, "isolate's output");
    const enis = await readEnis(ctx, instanceIdOf(ctx));
    const found = await problems(ctx, enis);
    for (const { vpcId, groupId } of expected.groups) {
      const group = found.groups.get(vpcId);
      if (group && groupIdOf(group) !== groupId) found.problems.push(`${vpcId}'s isolation group is not ${groupId}`);
    }
    if (found.problems.length > 0) throw new VerificationError(`isolation incomplete: ${found.problems.join("; ")}`);
  },
};
