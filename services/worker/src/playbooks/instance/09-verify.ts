// Step 9: look again, from scratch, at what containment promised: every interface of the instance
// holds only its VPC's containment group, that group has no rules, and the instance carries the
// remediation's tags. Records what it found; throws VerificationError when anything is off.
// A check only (checkOnly): a check that finds everything in place is recorded `verified`.
import { z } from "zod";
import type { Step, StepContext } from "../../engine/step.js";
import { checkingStep } from "../kit/checking-step.js";
import { NETWORK_INTERFACE_ID, SECURITY_GROUP_ID, VPC_ID, instanceIdOf } from "./shared/ids.js";
import { readEnis, requireLiveInstance, tagValue } from "./shared/instance.js";
import { isolationProblems } from "../kit/isolation/index.js";
import { STEP } from "./shared/names.js";
import { idOf } from "../kit/schema.js";
import { STATE_ISOLATED, TAG_FINDING_ID, TAG_REMEDIATION_ID, TAG_STATE } from "./shared/tags.js";

const verifyOutput = z.object({
  ok: z.boolean(),
  interfaces: z.array(
    z.object({ id: idOf(NETWORK_INTERFACE_ID), groupIds: z.array(idOf(SECURITY_GROUP_ID)), containmentGroupId: idOf(SECURITY_GROUP_ID).nullable() }),
  ),
  containmentGroups: z.array(z.object({ vpcId: idOf(VPC_ID), groupId: idOf(SECURITY_GROUP_ID) })),
  tags: z.array(z.object({ key: z.string(), value: z.string().nullable() })),
  problems: z.array(z.string()),
});

export type VerifyOutput = z.infer<typeof verifyOutput>;

async function inspect(ctx: StepContext): Promise<VerifyOutput> {
  const instanceId = instanceIdOf(ctx);
  const instance = await requireLiveInstance(ctx, instanceId);
  const enis = await readEnis(ctx, instanceId);
  const problems: string[] = [];
  if (enis.length === 0) problems.push("the instance has no network interface");

  // Any usable containment group of ours contains (a VPC may have more than one): the
  // interfaces' own is preferred. A rule on it, or an interface on anything else, is a problem.
  const found = await isolationProblems(
    ctx,
    enis.map((e) => ({ id: e.id, vpcId: e.vpcId, groupIds: e.groupIds, requesterManaged: false })),
  );
  problems.push(...found.problems);
  const containmentGroups = [...found.containment].map(([vpcId, groupId]) => ({ vpcId, groupId }));
  const interfaces = enis.map((eni) => ({ id: eni.id, groupIds: eni.groupIds, containmentGroupId: found.containment.get(eni.vpcId) ?? null }));

  const wanted: [string, string][] = [
    [TAG_FINDING_ID, ctx.tags.findingId],
    [TAG_REMEDIATION_ID, ctx.tags.remediationId],
    [TAG_STATE, STATE_ISOLATED],
  ];
  const tags = wanted.map(([key, value]) => {
    const found = tagValue(instance, key) ?? null;
    if (found !== value) problems.push(`tag ${key} is ${found === null ? "missing" : JSON.stringify(found)}`);
    return { key, value: found };
  });

  return { ok: problems.length === 0, interfaces, containmentGroups, tags, problems };
}

export const verifyIsolation: Step = checkingStep(STEP.verify, verifyOutput, inspect);
