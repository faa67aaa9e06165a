// Step 3: isolation, as early as it is safe (right after the instance left its Auto Scaling
// group). Every interface of the instance goes original → transit → containment, the two-group
// procedure of AWS's AWSSupport-ContainEC2Instance runbook (../kit/isolation/README.md): the
// transit group of its VPC holds a permanent all-traffic egress rule (why: connection tracking,
// see ALL_TRAFFIC_EGRESS in ../kit/isolation/groups.ts), the containment group never holds a
// rule, so isolating this instance never reopens one isolated before it in the same VPC.
//
// Crash-safety: a re-run reads the interfaces as they are now: every interface on containment
// only, and that group rule-less, is done; an interface on transit moves on; any other starts
// again. An interface is marked before it goes onto transit and after it leaves it, so that the
// sweep (sweep/) moves one a dead worker left there on to containment.
//
// In plan and dry-run mode the same code runs with its changes recorded (no lock, no marks): a
// group act would create is named by its placeholder, one per VPC and role.
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../engine/step.js";
import { findTransitGroupId, isolateEnis, isolationProblems, type EniState } from "../kit/isolation/index.js";
import { parseOutput } from "../kit/json.js";
import { idOf } from "../kit/schema.js";
import type { Json } from "../kit/json.js";
import { NETWORK_INTERFACE_ID, SECURITY_GROUP_ID, VPC_ID, instanceIdOf } from "./shared/ids.js";
import { readEnis, type EniState as InstanceEni } from "./shared/instance.js";
import { STEP } from "./shared/names.js";
import { recordedPreState } from "./shared/pre-state.js";

const recordedEni = z.object({ id: idOf(NETWORK_INTERFACE_ID), vpcId: idOf(VPC_ID), previousGroupIds: z.array(idOf(SECURITY_GROUP_ID)) });

/**
 * What isolate records (read back by its verify and by release): every id is checked again, since
 * it comes from the database, not from AWS.
 */
export const isolateOutput = z.object({
  /** The containment group of the instance's own VPC (its primary interface's). */
  containmentGroupId: idOf(SECURITY_GROUP_ID),
  groups: z.array(
    z.object({
      vpcId: idOf(VPC_ID),
      /** Null when none was needed: the interfaces were contained already (by the previous version). */
      transitGroupId: idOf(SECURITY_GROUP_ID).nullable(),
      containmentGroupId: idOf(SECURITY_GROUP_ID),
      created: z.boolean(),
    }),
  ),
  enis: z.array(recordedEni),
});

export type IsolateOutput = z.infer<typeof isolateOutput>;

/**
 * What the previous, one-group version recorded: its isolation group is today's containment
 * group (same name and tag), and it had no transit group. A remediation isolated by it still
 * verifies and releases.
 */
const legacyIsolateOutput = z.object({
  isolationGroupId: idOf(SECURITY_GROUP_ID),
  groups: z.array(z.object({ vpcId: idOf(VPC_ID), groupId: idOf(SECURITY_GROUP_ID), created: z.boolean() })),
  enis: z.array(recordedEni),
});

/** An isolate output of either version, as this version reads it. */
export interface RecordedIsolation {
  containmentGroupId: string;
  groups: { vpcId: string; containmentGroupId: string; transitGroupId: string | null }[];
  enis: z.infer<typeof recordedEni>[];
}

export function parseIsolateOutput(value: Json | undefined): RecordedIsolation {
  const legacy = legacyIsolateOutput.safeParse(value);
  if (legacy.success) {
    return {
      containmentGroupId: legacy.data.isolationGroupId,
      groups: legacy.data.groups.map((g) => ({ vpcId: g.vpcId, containmentGroupId: g.groupId, transitGroupId: null })),
      enis: legacy.data.enis,
    };
  }
  const current = parseOutput(isolateOutput, value, "isolate's output");
  return { containmentGroupId: current.containmentGroupId, groups: current.groups, enis: current.enis };
}

/** The instance's interfaces as isolation reads them (an instance's own ENIs are not requester-managed). */
function asIsolated(enis: readonly InstanceEni[]): EniState[] {
  return enis.map((e) => ({ id: e.id, vpcId: e.vpcId, groupIds: e.groupIds, requesterManaged: false }));
}

/** The groups an interface had before this remediation: identify's record, else what it has now. */
function previousGroups(ctx: StepContext, eni: EniState): string[] {
  return recordedPreState(ctx)?.enis.find((e) => e.id === eni.id)?.groupIds ?? eni.groupIds;
}

function primaryContainment(ctx: StepContext, enis: readonly EniState[], groups: IsolateOutput["groups"]): string {
  const primaryVpc = enis[0]?.vpcId ?? recordedPreState(ctx)?.vpcId;
  const primary = groups.find((g) => g.vpcId === primaryVpc) ?? groups[0];
  if (!primary) throw new VerificationError("the instance has no network interface to isolate");
  return primary.containmentGroupId;
}

export const isolate: Step = {
  name: STEP.isolate,
  destructive: false,
  output: isolateOutput,

  async check(ctx): Promise<CheckResult> {
    const enis = asIsolated(await readEnis(ctx, instanceIdOf(ctx)));
    if (enis.length === 0) return { done: false };
    const found = await isolationProblems(ctx, enis);
    if (found.problems.length > 0) return { done: false, state: found.problems };
    // Done already (a re-run, or containment by the previous version, which had no transit
    // group: none is created for interfaces that need no passage).
    const groups: IsolateOutput["groups"] = [];
    for (const [vpcId, containmentGroupId] of found.containment) {
      groups.push({ vpcId, transitGroupId: await findTransitGroupId(ctx, vpcId), containmentGroupId, created: false });
    }
    return {
      done: true,
      output: {
        containmentGroupId: primaryContainment(ctx, enis, groups),
        groups,
        enis: enis.map((e) => ({ id: e.id, vpcId: e.vpcId, previousGroupIds: previousGroups(ctx, e) })),
      },
    };
  },

  async act(ctx) {
    const enis = asIsolated(await readEnis(ctx, instanceIdOf(ctx)));
    const outcome = await isolateEnis(ctx, enis, (eni) => previousGroups(ctx, eni));
    const result: IsolateOutput = {
      containmentGroupId: primaryContainment(ctx, enis, outcome.groups),
      groups: outcome.groups,
      enis: outcome.enis,
    };
    return result;
  },

  async verify(ctx, recorded) {
    const expected = parseIsolateOutput(recorded);
    const found = await isolationProblems(ctx, asIsolated(await readEnis(ctx, instanceIdOf(ctx))));
    for (const { vpcId, containmentGroupId } of expected.groups) {
      const live = found.containment.get(vpcId);
      if (live && live !== containmentGroupId) found.problems.push(`${vpcId}'s containment group is not ${containmentGroupId}`);
    }
    if (found.problems.length > 0) throw new VerificationError(`isolation incomplete: ${found.problems.join("; ")}`);
  },
};
