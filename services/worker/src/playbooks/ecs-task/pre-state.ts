// identify's record: the task as found before anything changed, what release restores from (the
// ENI's groups, the target registrations), what the later steps act on (the ENI, the service, the
// host), and the skip decisions (gone, already stopped). Taken once.
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { z } from "zod";
import { SkipRemediation, VerificationError, type Json, type StepContext } from "../../engine/step.js";
import { readEnisByIds } from "../kit/isolation/index.js";
import { OutputShapeError, parseOutput } from "../kit/json.js";
import { idOf } from "../kit/schema.js";
import {
  CONTAINER_INSTANCE_ARN,
  ECS_CLUSTER_NAME,
  ECS_SERVICE_NAME,
  ECS_TASK_ARN,
  ECS_TASK_DEFINITION_ARN,
  INSTANCE_ID,
  IPV4_ADDRESS,
  NETWORK_INTERFACE_ID,
  SECURITY_GROUP_ID,
  TARGET_GROUP_ARN,
  VOLUME_ID,
  VPC_ID,
  expectId,
  taskOf,
} from "./ids.js";
import { STEP } from "./names.js";
import type { TagPair } from "./tags.js";
import { expectedTargets, registrationState, type TaskTarget } from "./targets.js";
import { describeTask, describeTaskDefinition, hostOf, isStopping, serviceLoadBalancers, stoppedMessage, taskEni } from "./task.js";

const tagPair = z.object({ key: z.string(), value: z.string() });

export const targetSchema = z.object({
  targetGroupArn: idOf(TARGET_GROUP_ARN),
  targetId: z.union([idOf(IPV4_ADDRESS), idOf(INSTANCE_ID)]),
  port: z.number().int(),
});

export const preStateSchema = z.object({
  taskArn: idOf(ECS_TASK_ARN),
  cluster: idOf(ECS_CLUSTER_NAME),
  lastStatus: z.string(),
  /** FARGATE, EC2, EXTERNAL (ECS Anywhere), or what ECS answered. */
  launchType: z.string(),
  /** awsvpc, bridge, host, none. */
  networkMode: z.string(),
  taskDefinitionArn: idOf(ECS_TASK_DEFINITION_ARN),
  /** Every container definition's image (DescribeTasks may name only some containers). */
  images: z.array(z.string()),
  group: z.string().nullable(),
  /** The owning service (`group: service:<name>`), null for a standalone task. */
  serviceName: idOf(ECS_SERVICE_NAME).nullable(),
  eni: z
    .object({
      id: idOf(NETWORK_INTERFACE_ID),
      vpcId: idOf(VPC_ID),
      groupIds: z.array(idOf(SECURITY_GROUP_ID)),
      requesterManaged: z.boolean(),
      privateIp: idOf(IPV4_ADDRESS).nullable(),
    })
    .nullable(),
  containerInstanceArn: idOf(CONTAINER_INSTANCE_ARN).nullable(),
  hostInstanceId: idOf(INSTANCE_ID).nullable(),
  hostVolumeIds: z.array(idOf(VOLUME_ID)),
  /** The registrations in the service's target groups found in place. */
  targets: z.array(targetSchema),
  tags: z.array(tagPair),
  exemptTag: tagPair.nullable(),
});

export type PreState = z.infer<typeof preStateSchema>;

/** Whether the task shares its host's network (bridge or host mode): isolating it means isolating the host. */
export function sharesHostNetwork(pre: Pick<PreState, "networkMode">): boolean {
  return pre.networkMode === "bridge" || pre.networkMode === "host";
}

async function volumesOf(ctx: StepContext, instanceId: string): Promise<string[]> {
  const out = await ctx.read("ec2", "ec2-read", new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const instance = out.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
  return (instance?.BlockDeviceMappings ?? []).flatMap((m) => (m.Ebs?.VolumeId ? [expectId(VOLUME_ID, m.Ebs.VolumeId, `a volume of ${instanceId}`)] : []));
}

/**
 * Reads the task and everything around it. Throws SkipRemediation when there is nothing to
 * contain: the task is unknown (gone) or already stopped (the message says when and why).
 */
export async function collectPreState(ctx: StepContext, exemptTag: TagPair): Promise<PreState> {
  const ref = taskOf(ctx);
  const task = await describeTask(ctx, ref);
  if (!task) throw new SkipRemediation("resource_gone", `task ${ref.taskArn} does not exist in cluster ${ref.cluster}`);
  if (isStopping(task)) throw new SkipRemediation("resource_terminated", `nothing to contain: ${stoppedMessage(task)}`);

  const definition = await describeTaskDefinition(ctx, task.taskDefinitionArn);
  const networkMode = definition.networkMode ?? "bridge"; // ECS's default on the EC2 launch type
  const group = task.group ?? null;
  const serviceName = group?.startsWith("service:") ? expectId(ECS_SERVICE_NAME, group.slice("service:".length), "the task's service") : null;
  const service = serviceName ? await serviceLoadBalancers(ctx, ref.cluster, serviceName) : { found: false, loadBalancers: [] };

  const attached = taskEni(task);
  if (networkMode === "awsvpc" && !attached && task.lastStatus === "PROVISIONING") {
    // ECS attaches the task ENI while provisioning: recorded now, the task would keep "no
    // interface" for good and never be isolated. Retryable: identify runs again shortly.
    throw new VerificationError(`task ${ref.taskArn} is PROVISIONING and ECS has not attached its network interface yet`);
  }
  let eni: PreState["eni"] = null;
  if (attached) {
    const [live] = await readEnisByIds(ctx, [attached.id]);
    if (live) {
      const privateIp = attached.privateIp === null ? null : expectId(IPV4_ADDRESS, attached.privateIp, `the IP of ${live.id}`);
      eni = { ...live, privateIp };
    }
  }

  const host = task.containerInstanceArn ? await hostOf(ctx, ref.cluster, task.containerInstanceArn) : null;
  const hostInstanceId = host?.instanceId ?? null;
  const hostVolumeIds = hostInstanceId ? await volumesOf(ctx, hostInstanceId) : [];

  const expected = expectedTargets(task, definition, service.loadBalancers, { privateIp: eni?.privateIp ?? null, hostInstanceId });
  const targets: TaskTarget[] = [];
  for (const target of expected) if ((await registrationState(ctx, target)) === "registered") targets.push(target);

  const tags = (task.tags ?? []).flatMap((t) => (t.key !== undefined && t.value !== undefined ? [{ key: t.key, value: t.value }] : []));
  const exempt = tags.some((t) => t.key === exemptTag.key && t.value === exemptTag.value);
  return {
    taskArn: ref.taskArn,
    cluster: ref.cluster,
    lastStatus: task.lastStatus ?? "UNKNOWN",
    launchType: task.launchType ?? (host ? "EC2" : "UNKNOWN"),
    networkMode,
    taskDefinitionArn: expectId(ECS_TASK_DEFINITION_ARN, definition.taskDefinitionArn, "the task definition"),
    images: (definition.containerDefinitions ?? []).flatMap((c) => (c.image ? [c.image] : [])),
    group,
    serviceName,
    eni,
    containerInstanceArn: host?.containerInstanceArn ?? null,
    hostInstanceId,
    hostVolumeIds,
    targets,
    tags,
    exemptTag: exempt ? { key: exemptTag.key, value: exemptTag.value } : null,
  };
}

/** identify's recorded output; the steps after identify and release cannot work without it. */
export function requirePreState(ctx: Pick<StepContext, "outputs" | "remediation">): PreState {
  const recorded = ctx.outputs.get(STEP.identify);
  if (recorded === undefined) throw new OutputShapeError("identify has no recorded output in this remediation: its pre-state is missing");
  const pre = parsePreState(recorded);
  if (pre.taskArn !== ctx.remediation.resourceKey) throw new OutputShapeError(`identify's output is for ${pre.taskArn}, not ${ctx.remediation.resourceKey}`);
  return pre;
}

export function parsePreState(value: Json): PreState {
  return parseOutput(preStateSchema, value, "identify's output");
}
