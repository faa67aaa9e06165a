// Step 4 (containment): cut the task off from all traffic.
//
// awsvpc (Fargate, or EC2 with awsvpc): the task has an ENI of its own, moved with the kit's
// two-group procedure (kit/isolation: original → transit → containment). ECS manages that ENI and
// AWS documents that an account cannot modify it (isolation-facts.ts). So the change is tried, and
// a refusal (EniChangeRefused: a fatal answer to ModifyNetworkInterfaceAttribute) is handled
// explicitly: the ENI is put back, the step returns notAvailable with AWS's code and message and
// the documentation, and the playbook's fallback (stop-task) is offered behind approval.
//
// bridge or host (EC2 launch type): the task has no interface of its own; it shares its host's
// network with the host's other tasks. Isolating it means isolating the host: an Instance
// remediation of the host is started (always behind approval: it reaches beyond this task), and
// the step returns notAvailable so that stopping the task is offered too.
import { z } from "zod";
import { VerificationError, notAvailable, type CheckResult, type Step, type StepContext } from "../../engine/step.js";
import { EniChangeRefused, isolateEnis, isolationProblems, readEnisByIds } from "../kit/isolation/index.js";
import { idOf } from "../kit/schema.js";
import { INSTANCE_ID, NETWORK_INTERFACE_ID, SECURITY_GROUP_ID, VPC_ID } from "./ids.js";
import { FARGATE_ENI_CARRIES, MAY_BE_REFUSED, TASK_ENI_DOCS } from "./isolation-facts.js";
import { STEP } from "./names.js";
import { planNote } from "./plan-note.js";
import { requirePreState, sharesHostNetwork, type PreState } from "./pre-state.js";

const groupId = z.union([idOf(SECURITY_GROUP_ID), z.string().startsWith("(")]); // a placeholder in a plan

export const isolateOutput = z.discriminatedUnion("mode", [
  z.object({
    mode: z.literal("isolated"),
    groups: z.array(z.object({ vpcId: idOf(VPC_ID), transitGroupId: groupId.nullable(), containmentGroupId: groupId, created: z.boolean() })),
    enis: z.array(z.object({ id: idOf(NETWORK_INTERFACE_ID), vpcId: idOf(VPC_ID), previousGroupIds: z.array(idOf(SECURITY_GROUP_ID)) })),
  }),
  /** The task ENI no longer exists: the task stopped meanwhile (ECS deletes a stopped task's ENI). */
  z.object({ mode: z.literal("eni-gone"), eniId: idOf(NETWORK_INTERFACE_ID) }),
  z.object({
    mode: z.literal("refused"),
    eniId: idOf(NETWORK_INTERFACE_ID),
    code: z.string(),
    awsMessage: z.string(),
    restored: z.boolean(),
  }),
  z.object({ mode: z.literal("host"), hostInstanceId: idOf(INSTANCE_ID), hostRemediationId: z.string(), created: z.boolean() }),
  z.object({ mode: z.literal("no-interface"), reason: z.string() }),
]);

export type IsolateOutput = z.infer<typeof isolateOutput>;

async function liveEni(ctx: StepContext, pre: PreState) {
  if (!pre.eni) return null;
  const [eni] = await readEnisByIds(ctx, [pre.eni.id]);
  return eni ?? null;
}

async function isolateTaskEni(ctx: StepContext, pre: PreState & { eni: NonNullable<PreState["eni"]> }) {
  const eni = await liveEni(ctx, pre);
  if (!eni) {
    const gone: IsolateOutput = { mode: "eni-gone", eniId: pre.eni.id };
    return gone;
  }
  // Every task ENI is ECS's (whether or not EC2 reports it requester-managed: moto does not), so
  // the plan always says what AWS may answer, which plan mode cannot try.
  planNote(ctx, MAY_BE_REFUSED);
  if (pre.launchType === "FARGATE") planNote(ctx, FARGATE_ENI_CARRIES);
  const recordedGroups = pre.eni.groupIds;
  try {
    const outcome = await isolateEnis(ctx, [eni], () => recordedGroups);
    const output: IsolateOutput = {
      mode: "isolated",
      groups: outcome.groups.map((g) => ({ vpcId: g.vpcId, transitGroupId: g.transitGroupId, containmentGroupId: g.containmentGroupId, created: g.created })),
      enis: outcome.enis,
    };
    return output;
  } catch (err) {
    if (!(err instanceof EniChangeRefused)) throw err;
    const output: IsolateOutput = { mode: "refused", eniId: err.eniId, code: err.code, awsMessage: err.awsMessage.slice(0, 500), restored: err.restored };
    return notAvailable(
      `AWS refused changing the security groups of task ENI ${err.eniId}: ${err.code}: ${err.awsMessage.slice(0, 300)}` +
        `${err.restored ? " (the ENI is back on its groups)" : " (the ENI could not be put back on its groups)"}. ` +
        `${TASK_ENI_DOCS}. Stopping the task (stop-task) is offered for approval instead.`,
      output,
    );
  }
}

async function isolateHost(ctx: StepContext, pre: PreState) {
  const host = pre.hostInstanceId;
  if (host === null) {
    const reason =
      pre.launchType === "EXTERNAL"
        ? `task uses ${pre.networkMode} networking on an external instance (ECS Anywhere: a server outside EC2): there is nothing this service can isolate`
        : `task uses ${pre.networkMode} networking on launch type ${pre.launchType} with no EC2 host ECS names: there is nothing this service can isolate`;
    return notAvailable(`${reason}; stopping the task (stop-task) is offered for approval instead`, { mode: "no-interface", reason });
  }
  const reason =
    `ECS task ${pre.taskArn} (${pre.networkMode} networking) shares the network of its host ${host} with the host's other tasks: ` +
    "isolating the task means isolating the host, which a person approves";
  const started = await ctx.startRemediation({ playbook: "instance", resourceKey: host, mode: "approval", reason });
  const output: IsolateOutput = { mode: "host", hostInstanceId: host, hostRemediationId: started.remediationId, created: started.created };
  return notAvailable(
    `task ${pre.taskArn} shares host ${host}'s network (${pre.networkMode} mode); remediation ${started.remediationId} isolates the host once approved; stopping the task (stop-task) is offered for approval too`,
    output,
  );
}

export const isolate: Step = {
  name: STEP.isolate,
  destructive: false,
  output: isolateOutput,

  async check(ctx): Promise<CheckResult> {
    const pre = requirePreState(ctx);
    if (pre.networkMode !== "awsvpc" || !pre.eni) return { done: false };
    const eni = await liveEni(ctx, pre);
    if (!eni) return { done: true, output: { mode: "eni-gone", eniId: pre.eni.id }, note: `task ENI ${pre.eni.id} is gone: the task has stopped` };
    const { problems, containment } = await isolationProblems(ctx, [eni]);
    if (problems.length > 0) return { done: false };
    const containmentGroupId = containment.get(eni.vpcId);
    if (containmentGroupId === undefined) return { done: false };
    return {
      done: true,
      output: {
        mode: "isolated",
        // The transit group is not looked up again: the ENI is past it.
        groups: [{ vpcId: eni.vpcId, transitGroupId: null, containmentGroupId, created: false }],
        enis: [{ id: eni.id, vpcId: eni.vpcId, previousGroupIds: pre.eni.groupIds }],
      },
    };
  },

  async act(ctx) {
    const pre = requirePreState(ctx);
    if (pre.networkMode === "awsvpc" && pre.eni) return isolateTaskEni(ctx, { ...pre, eni: pre.eni });
    if (sharesHostNetwork(pre)) return isolateHost(ctx, pre);
    const reason = `task has no network interface of its own to isolate (network mode ${pre.networkMode}, launch type ${pre.launchType})`;
    return notAvailable(`${reason}; stopping the task (stop-task) is offered for approval instead`, { mode: "no-interface", reason });
  },

  async verify(ctx, output) {
    const recorded = isolateOutput.parse(output);
    if (recorded.mode !== "isolated") return;
    const enis = await readEnisByIds(ctx, recorded.enis.map((e) => e.id));
    // Gone since (the task stopped): nothing of it is reachable any more.
    if (enis.length === 0) return;
    const { problems } = await isolationProblems(ctx, enis);
    if (problems.length > 0) throw new VerificationError(`task ENI not contained: ${problems.join("; ")}`);
  },
};
