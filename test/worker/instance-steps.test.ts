// The Instance playbook's steps against a real moto server: each step's check → act → verify, run
// in order by a tiny loop standing in for the engine, then the state moto holds is asserted. Fakes
// only where moto has no part: GuardDuty malware scans (moto does not implement StartMalwareScan)
// and an Auto Scaling refusal moto never gives; both through aws-sdk-client-mock, typed against
// the real clients.
import { randomUUID } from "node:crypto";
import {
  AutoScalingClient,
  AutoScalingServiceException,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
  EnterStandbyCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateSecurityGroupCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  TerminateInstancesCommand,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  BadRequestException,
  GuardDutyClient,
  GuardDutyServiceException,
  StartMalwareScanCommand,
} from "@aws-sdk/client-guardduty";
import { IAMClient } from "@aws-sdk/client-iam";
import { ECRClient } from "@aws-sdk/client-ecr";
import { ECSClient } from "@aws-sdk/client-ecs";
import { createLogger } from "@gdr/core/log";
import type { AwsClients } from "@gdr/core/aws/clients";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { callsFor, type Recorded } from "../../services/worker/src/engine/calls.js";
import { deriveCalls } from "../../services/worker/src/engine/derive.js";
import {
  SkipRemediation,
  type ApiFamily,
  type Json,
  type Step,
  type StepContext,
  type StepMode,
} from "../../services/worker/src/engine/step.js";
import { instancePlaybook } from "../../services/worker/src/playbooks/instance/index.js";
import { createIdentifyStep } from "../../services/worker/src/playbooks/instance/01-identify.js";
import { leaveAutoScaling } from "../../services/worker/src/playbooks/instance/02-leave-auto-scaling.js";
import { isolate } from "../../services/worker/src/playbooks/instance/03-isolate.js";
import { malwareScan } from "../../services/worker/src/playbooks/instance/08-malware-scan.js";
import { restoreGroups } from "../../services/worker/src/playbooks/instance/release/restore-groups.js";
import {
  awsTestEnv,
  seedInstance,
  seedVpc,
  startMoto,
  type Moto,
  type SeededInstance,
} from "../support/index.js";
import { runSteps } from "../support/steps.js";

const ACCOUNT = "123456789012";
const ISOLATION_GROUP = "guardduty-responder-isolation";
const TRANSIT_GROUP = "guardduty-responder-transit";

let moto: Moto;
let clients: AwsClients;
const destroyOnExit: { destroy(): void }[] = [];

beforeAll(async () => {
  moto = await startMoto();
  const env = awsTestEnv(moto.endpoint);
  const config = { region: env.region, endpoint: env.endpoint, credentials: env.credentials, maxAttempts: 1 };
  clients = {
    accountId: ACCOUNT,
    region: env.region,
    ec2: new EC2Client(config),
    autoscaling: new AutoScalingClient(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
    guardduty: new GuardDutyClient(config),
    iam: new IAMClient(config),
    ecs: new ECSClient(config),
    ecr: new ECRClient(config),
  };
  destroyOnExit.push(clients.ec2, clients.autoscaling, clients.elbv2, clients.guardduty, clients.iam, clients.ecs, clients.ecr);
});

afterAll(async () => {
  for (const client of destroyOnExit) client.destroy();
  await moto.stop();
});

beforeEach(async () => {
  await moto.reset();
});

// ---------------------------------------------------------------------------------------------
// A minimal StepContext and an engine stand-in.

/** A real mutex per name, in memory: what the Redis lock gives across workers. */
function createMutex(): { withLock: StepContext["withLock"]; maxHeld: () => number } {
  const tails = new Map<string, Promise<void>>();
  const held = new Map<string, number>();
  let max = 0;
  return {
    async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      let release = (): void => undefined;
      const mine = new Promise<void>((resolve) => {
        release = resolve;
      });
      tails.set(name, previous.then(() => mine));
      await previous;
      const now = (held.get(name) ?? 0) + 1;
      held.set(name, now);
      max = Math.max(max, now);
      try {
        return await fn();
      } finally {
        held.set(name, now - 1);
        release();
      }
    },
    maxHeld: () => max,
  };
}

interface TestContext extends StepContext {
  outputs: Map<string, Json>;
  requestIds: string[];
  families: ApiFamily[];
  /** What plan and dry-run mode recorded instead of sending (empty in act mode). */
  recorded: Recorded;
}

/**
 * A step context whose reads and changes go through the engine's own call path (calls.ts
 * callsFor), so a step here sends, records and throttles exactly as under the engine.
 */
function makeContext(
  instanceId: string,
  options: {
    outputs?: Map<string, Json>;
    aws?: Partial<AwsClients>;
    withLock?: StepContext["withLock"];
    remediationId?: string;
    mode?: StepMode;
  } = {},
): TestContext {
  const remediationId = options.remediationId ?? randomUUID();
  const findingId = randomUUID().replaceAll("-", "");
  const requestIds: string[] = [];
  const families: ApiFamily[] = [];
  const mode = options.mode ?? "act";
  const aws = { ...clients, ...options.aws };
  const signal = new AbortController().signal;
  const throttle = (family: ApiFamily): Promise<void> => {
    families.push(family);
    return Promise.resolve();
  };
  const noteRequestId = (id: string | undefined): void => {
    if (id) requestIds.push(id);
  };
  const calls = callsFor(mode, { aws, signal, throttle, noteRequestId });
  return {
    mode,
    read: calls.read,
    change: calls.change,
    changeOutside: calls.changeOutside,
    startRemediation: () => Promise.reject(new Error("this playbook starts no other remediation")),
    recorded: calls.recorded,
    client: () => Promise.reject(new Error("the instance playbook has no outside client")),
    remediation: {
      id: remediationId,
      findingId,
      accountId: ACCOUNT,
      region: "us-east-1",
      resourceKey: instanceId,
      playbook: "instance",
      mode: "auto",
    },
    finding: {},
    aws,
    outputs: options.outputs ?? new Map<string, Json>(),
    signal,
    logger: createLogger({ level: "silent", name: "t" }),
    throttle,
    noteRequestId,
    tags: { findingId, remediationId },
    withLock: options.withLock ?? ((_name, fn) => fn()),
    // The engine writes these to audit_events; this stand-in has no Postgres.
    audit: () => Promise.resolve(),
    // The Instance playbook reads no marks.
    marked: () => Promise.resolve(false),
    requestIds,
    families,
  };
}

/** Same remediation (id, finding, outputs so far), fresh bookkeeping: a re-run after a restart. */
function rerunContext(ctx: TestContext): TestContext {
  const again = makeContext(ctx.remediation.resourceKey, { outputs: ctx.outputs, remediationId: ctx.remediation.id });
  return { ...again, remediation: ctx.remediation, tags: ctx.tags };
}

/**
 * What the engine derives from a step in plan or dry-run mode (engine/derive.ts): its act run with
 * the changes recorded, in the same remediation, with the outputs so far (a copy, or `outputs`).
 */
async function derive(step: Step, base: TestContext, mode: "plan" | "dry_run", outputs = new Map(base.outputs)): Promise<Recorded> {
  const ctx = makeContext(base.remediation.resourceKey, { mode, outputs, remediationId: base.remediation.id, withLock: (name, fn) => base.withLock(name, fn) });
  return deriveCalls(step, { ...ctx, remediation: base.remediation, tags: base.tags }, outputs);
}

async function skipReason(promise: Promise<unknown>): Promise<string> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SkipRemediation);
  return (err as SkipRemediation).reason;
}

// ---------------------------------------------------------------------------------------------
// Reading moto's state.

async function eniGroups(instanceId: string): Promise<Record<string, string[]>> {
  const out = await clients.ec2.send(
    new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [instanceId] }] }),
  );
  return Object.fromEntries(
    (out.NetworkInterfaces ?? []).map((e) => [e.NetworkInterfaceId ?? "", (e.Groups ?? []).map((g) => g.GroupId ?? "")]),
  );
}

/** The VPC's containment groups (by name), or its transit groups. */
async function isolationGroups(vpcId: string, name: string = ISOLATION_GROUP): Promise<SecurityGroup[]> {
  const out = await clients.ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: "vpc-id", Values: [vpcId] },
        { Name: "group-name", Values: [name] },
      ],
    }),
  );
  return out.SecurityGroups ?? [];
}

function ruleCount(group: SecurityGroup): number {
  return [...(group.IpPermissions ?? []), ...(group.IpPermissionsEgress ?? [])].reduce(
    (n, p) =>
      n +
      (p.IpRanges?.length ?? 0) +
      (p.Ipv6Ranges?.length ?? 0) +
      (p.PrefixListIds?.length ?? 0) +
      (p.UserIdGroupPairs?.length ?? 0),
    0,
  );
}

async function instanceTags(instanceId: string): Promise<Record<string, string>> {
  const out = await clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const instance = out.Reservations?.[0]?.Instances?.[0];
  return Object.fromEntries((instance?.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
}

async function remediationSnapshots(remediationId: string) {
  const out = await clients.ec2.send(
    new DescribeSnapshotsCommand({
      OwnerIds: ["self"],
      Filters: [{ Name: "tag:guardduty-responder:remediation-id", Values: [remediationId] }],
    }),
  );
  return out.Snapshots ?? [];
}

async function lifecycle(instanceId: string): Promise<string | null> {
  const out = await clients.autoscaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
  return out.AutoScalingInstances?.[0]?.LifecycleState ?? null;
}

async function targetState(seeded: SeededInstance): Promise<string | undefined> {
  const out = await clients.elbv2.send(
    new DescribeTargetHealthCommand({
      TargetGroupArn: seeded.targetGroupArn ?? "",
      Targets: [{ Id: seeded.instanceId, Port: seeded.targetPort }],
    }),
  );
  const target = out.TargetHealthDescriptions?.[0]?.TargetHealth;
  return target?.State === "unused" && target.Reason === "Target.NotRegistered" ? "not-registered" : target?.State;
}

async function attributes(instanceId: string) {
  const termination = await clients.ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: "disableApiTermination" }),
  );
  const shutdown = await clients.ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: "instanceInitiatedShutdownBehavior" }),
  );
  const described = await clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const mappings = described.Reservations?.[0]?.Instances?.[0]?.BlockDeviceMappings ?? [];
  return {
    disableApiTermination: termination.DisableApiTermination?.Value,
    shutdownBehavior: shutdown.InstanceInitiatedShutdownBehavior?.Value,
    deleteOnTermination: Object.fromEntries(mappings.map((m) => [m.Ebs?.VolumeId ?? "", m.Ebs?.DeleteOnTermination])),
  };
}

/** Everything a step could change, for "dry-run changed nothing". */
async function observableState(seeded: SeededInstance, remediationId: string) {
  const groups = await clients.ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [seeded.vpcId] }] }),
  );
  return {
    enis: await eniGroups(seeded.instanceId),
    groups: (groups.SecurityGroups ?? [])
      .map((g) => ({ id: g.GroupId, name: g.GroupName, rules: ruleCount(g) }))
      .sort((x, y) => (x.id ?? "").localeCompare(y.id ?? "")),
    tags: await instanceTags(seeded.instanceId),
    snapshots: (await remediationSnapshots(remediationId)).length,
    allSnapshots: ((await clients.ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots ?? []).length,
    lifecycle: await lifecycle(seeded.instanceId),
    target: await targetState(seeded),
    attributes: await attributes(seeded.instanceId),
  };
}

const playbook = instancePlaybook({ terminate: false });

// ---------------------------------------------------------------------------------------------

describe("the instance playbook in order", () => {
  it("isolates, protects, snapshots and tags; leaves the Auto Scaling group and the target group", async () => {
    const seeded = await seedInstance(clients);
    expect(await lifecycle(seeded.instanceId)).toBe("InService");
    expect(await targetState(seeded)).toBe("healthy");
    const ctx = makeContext(seeded.instanceId);

    const outcomes = await runSteps(playbook.steps, ctx);
    expect(outcomes).toEqual({
      identify: "acted",
      "leave-auto-scaling": "acted",
      isolate: "acted",
      "protect-evidence": "acted",
      "leave-target-groups": "acted",
      tag: "acted",
      "snapshot-volumes": "acted",
      "malware-scan": "unavailable",
      // verify's check is the verification itself: it finds containment in place.
      verify: "verified",
    });
    expect(Object.keys(outcomes)).toEqual(playbook.steps.map((s) => s.name));

    // The pre-state identify recorded is the state before anything changed.
    const pre = ctx.outputs.get("identify") as { enis: { id: string; groupIds: string[] }[]; autoScaling: unknown };
    expect(Object.fromEntries(pre.enis.map((e) => [e.id, e.groupIds]))).toEqual(seeded.eniGroups);
    expect(pre.autoScaling).toEqual({ groupName: seeded.autoScalingGroupName, lifecycleState: "InService" });

    // One containment group in the VPC, tagged, with no rules at all; every interface has only
    // it. One transit group beside it, holding its all-traffic egress rule, and nothing in it.
    const [group, ...others] = await isolationGroups(seeded.vpcId);
    expect(others).toHaveLength(0);
    expect(group?.Tags).toEqual(expect.arrayContaining([{ Key: "guardduty-responder:role", Value: "isolation" }]));
    expect(ruleCount(group ?? {})).toBe(0);
    expect(await eniGroups(seeded.instanceId)).toEqual({
      [seeded.primaryEniId]: [group?.GroupId],
      [seeded.secondaryEniId]: [group?.GroupId],
    });
    const [transit, ...moreTransit] = await isolationGroups(seeded.vpcId, TRANSIT_GROUP);
    expect(moreTransit).toHaveLength(0);
    expect(transit?.Tags).toEqual(expect.arrayContaining([{ Key: "guardduty-responder:role", Value: "isolation-transit" }]));
    expect(ruleCount(transit ?? {})).toBe(1);
    expect(ctx.outputs.get("isolate")).toMatchObject({
      containmentGroupId: group?.GroupId,
      groups: [{ vpcId: seeded.vpcId, transitGroupId: transit?.GroupId, containmentGroupId: group?.GroupId, created: true }],
      enis: [
        { id: seeded.primaryEniId, previousGroupIds: seeded.eniGroups[seeded.primaryEniId] },
        { id: seeded.secondaryEniId, previousGroupIds: seeded.eniGroups[seeded.secondaryEniId] },
      ],
    });

    // Out of the Auto Scaling group's care (standby, capacity kept) and out of the target group.
    expect(await lifecycle(seeded.instanceId)).toBe("Standby");
    expect(ctx.outputs.get("leave-auto-scaling")).toMatchObject({ action: "entered-standby" });
    expect(await targetState(seeded)).toBe("not-registered");

    // Evidence protected.
    expect(await attributes(seeded.instanceId)).toEqual({
      disableApiTermination: true,
      shutdownBehavior: "stop",
      deleteOnTermination: Object.fromEntries(seeded.volumeIds.map((v) => [v, false])),
    });

    // Tagged.
    expect(await instanceTags(seeded.instanceId)).toMatchObject({
      "guardduty-responder:finding-id": ctx.tags.findingId,
      "guardduty-responder:remediation-id": ctx.tags.remediationId,
      "guardduty-responder:state": "isolated",
    });

    // One snapshot per volume, tagged with finding, remediation, source volume and instance.
    const snapshots = await remediationSnapshots(ctx.tags.remediationId);
    expect(snapshots.map((s) => s.VolumeId).sort()).toEqual([...seeded.volumeIds].sort());
    for (const snapshot of snapshots) {
      expect(snapshot.Tags).toEqual(
        expect.arrayContaining([
          { Key: "guardduty-responder:finding-id", Value: ctx.tags.findingId },
          { Key: "guardduty-responder:remediation-id", Value: ctx.tags.remediationId },
          { Key: "guardduty-responder:source-volume-id", Value: snapshot.VolumeId },
          { Key: "guardduty-responder:instance-id", Value: seeded.instanceId },
        ]),
      );
    }

    // moto does not implement GuardDuty malware scans: the step is unavailable, says why, and the
    // playbook goes on.
    expect(ctx.outputs.get("malware-scan")).toMatchObject({
      started: false,
      reason: expect.stringMatching(/^StartMalwareScan is not available in this region: .*HTTP 404/) as unknown,
      resourceArn: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${seeded.instanceId}`,
    });
    expect(ctx.outputs.get("verify")).toMatchObject({ ok: true, problems: [] });

    // Every call throttled by its family and its request id noted.
    expect(new Set(ctx.families)).toEqual(new Set(["ec2-read", "ec2-write", "autoscaling", "elbv2", "guardduty"]));
    expect(ctx.requestIds.length).toBeGreaterThan(20);

    // Run again: every check finds its effect in place, and nothing new is made.
    const before = {
      snapshots: (await remediationSnapshots(ctx.tags.remediationId)).length,
      groups: (await isolationGroups(seeded.vpcId)).length,
      tags: Object.keys(await instanceTags(seeded.instanceId)).length,
      state: await observableState(seeded, ctx.tags.remediationId),
    };
    const again = rerunContext(ctx);
    const preBefore = JSON.stringify(again.outputs.get("identify"));
    const rerun = await runSteps(playbook.steps, again);
    expect(rerun).toEqual({ ...Object.fromEntries(playbook.steps.map((step) => [step.name, "already-done"])), verify: "verified" });
    expect(JSON.stringify(again.outputs.get("identify"))).toBe(preBefore); // the pre-state is kept
    expect(again.families.filter((f) => f === "ec2-write" || f === "guardduty")).toEqual([]);
    expect({
      snapshots: (await remediationSnapshots(ctx.tags.remediationId)).length,
      groups: (await isolationGroups(seeded.vpcId)).length,
      tags: Object.keys(await instanceTags(seeded.instanceId)).length,
      state: await observableState(seeded, ctx.tags.remediationId),
    }).toEqual(before);
  });

  it("shares one isolation group between two instances of a VPC", async () => {
    const vpc = await seedVpc(clients);
    const first = await seedInstance(clients, { vpc });
    const second = await seedInstance(clients, { vpc });
    await runSteps(playbook.steps, makeContext(first.instanceId));
    await runSteps(playbook.steps, makeContext(second.instanceId));

    const groups = await isolationGroups(vpc.vpcId);
    expect(groups).toHaveLength(1);
    expect(ruleCount(groups[0] ?? {})).toBe(0);
    for (const seeded of [first, second]) {
      expect(Object.values(await eniGroups(seeded.instanceId))).toEqual([[groups[0]?.GroupId], [groups[0]?.GroupId]]);
    }
  });

  it("isolates five instances of one VPC at once: one containment group, created once under the lock", async () => {
    const vpc = await seedVpc(clients);
    const seeded: SeededInstance[] = [];
    for (let i = 0; i < 5; i++) seeded.push(await seedInstance(clients, { vpc, autoScaling: false, targetGroup: false }));
    const mutex = createMutex();
    const steps = [createIdentifyStep(), isolate];
    await Promise.all(seeded.map((s) => runSteps(steps, makeContext(s.instanceId, { withLock: mutex.withLock }))));

    expect(mutex.maxHeld()).toBe(1);
    const groups = await isolationGroups(vpc.vpcId);
    expect(groups).toHaveLength(1);
    expect(ruleCount(groups[0] ?? {})).toBe(0);
    for (const s of seeded) {
      for (const ids of Object.values(await eniGroups(s.instanceId))) expect(ids).toEqual([groups[0]?.GroupId]);
    }
  });

  it("completes a swap a crash left half done", async () => {
    const seeded = await seedInstance(clients, { autoScaling: false, targetGroup: false });
    const ctx = makeContext(seeded.instanceId);
    await runSteps([createIdentifyStep()], ctx);

    // The crashed run had created the group and moved the primary interface, nothing more.
    const created = await clients.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: ISOLATION_GROUP,
        Description: "isolation",
        VpcId: seeded.vpcId,
        TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: "guardduty-responder:role", Value: "isolation" }] }],
      }),
    );
    await clients.ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: seeded.primaryEniId, Groups: [created.GroupId ?? ""] }),
    );

    const checked = await isolate.check(ctx);
    expect(checked.done).toBe(false);
    expect(await runSteps([isolate], ctx)).toEqual({ isolate: "acted" });

    expect(await eniGroups(seeded.instanceId)).toEqual({
      [seeded.primaryEniId]: [created.GroupId],
      [seeded.secondaryEniId]: [created.GroupId],
    });
    const [group, ...others] = await isolationGroups(seeded.vpcId);
    expect(others).toHaveLength(0);
    expect(ruleCount(group ?? {})).toBe(0);
    // The previous groups come from identify's record, not from the half-isolated state.
    expect(ctx.outputs.get("isolate")).toMatchObject({
      enis: [
        { id: seeded.primaryEniId, previousGroupIds: seeded.eniGroups[seeded.primaryEniId] },
        { id: seeded.secondaryEniId, previousGroupIds: seeded.eniGroups[seeded.secondaryEniId] },
      ],
    });
  });
});

describe("identify", () => {
  // Issue 8 item 7: a workload can tag itself, so the live exemption tag holds the remediation for
  // a person (holdFor gives the reason) instead of skipping it.
  it("records the exemption tag of the live instance and asks for a person, never skips", async () => {
    const seeded = await seedInstance(clients, {
      autoScaling: false,
      targetGroup: false,
      tags: { "guardduty-remediation": "exempt" },
    });
    const identify = createIdentifyStep();
    const output = identify.output.parse(await identify.act(makeContext(seeded.instanceId), undefined));
    expect(output).toMatchObject({ instanceId: seeded.instanceId, exemptTag: { key: "guardduty-remediation", value: "exempt" } });
    expect(identify.holdFor?.(output)).toMatch(/exemption tag guardduty-remediation=exempt/);
    // The policy's own exemption tag, when it configures another one.
    const custom = instancePlaybook({ terminate: false, exemptTag: { key: "team", value: "forensics" } });
    const other = await seedInstance(clients, { autoScaling: false, targetGroup: false, tags: { team: "forensics" } });
    const customIdentify = custom.steps[0];
    if (!customIdentify) throw new Error("the playbook has no identify step");
    const customOutput = customIdentify.output.parse(await customIdentify.act(makeContext(other.instanceId), undefined));
    expect(customIdentify.holdFor?.(customOutput)).toMatch(/team=forensics/);
    // Untagged: no hold.
    const plain = await seedInstance(clients, { autoScaling: false, targetGroup: false });
    expect(identify.holdFor?.(identify.output.parse(await identify.act(makeContext(plain.instanceId), undefined)))).toBeNull();
  });

  it("skips a terminated instance and an unknown one", async () => {
    const seeded = await seedInstance(clients, { autoScaling: false, targetGroup: false });
    await clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: [seeded.instanceId] }));
    expect(await skipReason(createIdentifyStep().act(makeContext(seeded.instanceId), undefined))).toBe(
      "resource_terminated",
    );
    expect(await skipReason(createIdentifyStep().act(makeContext("i-0123456789abcdef0"), undefined))).toBe(
      "resource_gone",
    );
  });

  it("refuses a malformed instance id before any call", async () => {
    const ctx = makeContext("i-0123456789ABCDEF0");
    await expect(createIdentifyStep().act(ctx, undefined)).rejects.toThrow(/not an EC2 instance id/);
    await expect(derive(isolate, ctx, "plan")).rejects.toThrow(/not an EC2 instance id/);
    expect(ctx.families).toEqual([]);
  });
});

describe("release", () => {
  it("restores every interface's groups, leaves standby, registers the targets again", async () => {
    const seeded = await seedInstance(clients);
    const ctx = makeContext(seeded.instanceId);
    await runSteps(playbook.steps, ctx);
    expect(await lifecycle(seeded.instanceId)).toBe("Standby");

    const outcomes = await runSteps(playbook.release, ctx);
    expect(outcomes).toEqual({
      "restore-groups": "acted",
      "exit-standby": "acted",
      "reregister-targets": "acted",
      "tag-released": "acted",
    });
    expect(await eniGroups(seeded.instanceId)).toEqual(seeded.eniGroups);
    expect(await lifecycle(seeded.instanceId)).toBe("InService");
    expect(await targetState(seeded)).toBe("healthy");
    expect(await instanceTags(seeded.instanceId)).toMatchObject({
      "guardduty-responder:state": "released",
      "guardduty-responder:finding-id": ctx.tags.findingId,
    });

    // Released twice: nothing left to do.
    const again = await runSteps(playbook.release, rerunContext(ctx));
    expect(Object.values(again).every((o) => o === "already-done")).toBe(true);
  });
});

describe("terminate", () => {
  it("turns termination protection off, terminates, and the volumes and snapshots stay", async () => {
    const seeded = await seedInstance(clients, { autoScaling: false, targetGroup: false });
    const withTerminate = instancePlaybook({ terminate: true });
    const last = withTerminate.steps.at(-1);
    if (!last) throw new Error("the playbook has no steps");
    expect(last).toMatchObject({ name: "terminate", destructive: true });
    expect(playbook.steps.some((s) => s.name === "terminate")).toBe(false);

    const ctx = makeContext(seeded.instanceId);
    await runSteps(withTerminate.steps.slice(0, -1), ctx);
    expect((await derive(last, ctx, "plan")).calls).toEqual([
      {
        service: "ec2",
        operation: "ModifyInstanceAttribute",
        params: { InstanceId: seeded.instanceId, DisableApiTermination: { Value: false } },
      },
      { service: "ec2", operation: "TerminateInstances", params: { InstanceIds: [seeded.instanceId] } },
    ]);
    expect(await runSteps(withTerminate.steps.slice(-1), ctx)).toEqual({ terminate: "acted" });

    const described = await clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [seeded.instanceId] }));
    expect(["shutting-down", "terminated"]).toContain(described.Reservations?.[0]?.Instances?.[0]?.State?.Name);
    const volumes = await clients.ec2.send(new DescribeVolumesCommand({ VolumeIds: seeded.volumeIds }));
    expect(volumes.Volumes?.map((v) => v.VolumeId).sort()).toEqual([...seeded.volumeIds].sort());
    expect(await remediationSnapshots(ctx.tags.remediationId)).toHaveLength(seeded.volumeIds.length);
    expect((await last.check(rerunContext(ctx))).done).toBe(true);
  });
});

describe("malware scan", () => {
  it("records the scan id GuardDuty returns and never starts a second scan", async () => {
    const guardduty = new GuardDutyClient({ region: "us-east-1", credentials: awsTestEnv(moto.endpoint).credentials });
    const mock = mockClient(guardduty);
    mock.on(StartMalwareScanCommand).resolves({ ScanId: "scan-0123456789", $metadata: { requestId: "req-1" } });
    try {
      const instanceId = "i-0123456789abcdef0";
      const ctx = makeContext(instanceId, { aws: { guardduty } });
      expect(await runSteps([malwareScan], ctx)).toEqual({ "malware-scan": "acted" });
      expect(ctx.outputs.get("malware-scan")).toEqual({
        started: true,
        scanId: "scan-0123456789",
        resourceArn: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${instanceId}`,
      });
      const calls = mock.commandCalls(StartMalwareScanCommand);
      expect(calls).toHaveLength(1);
      const input = calls[0]?.args[0].input;
      expect(input?.ResourceArn).toBe(`arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${instanceId}`);
      expect(input?.ClientToken).toMatch(/^[0-9a-f]{64}$/);

      expect(await runSteps([malwareScan], rerunContext(ctx))).toEqual({ "malware-scan": "already-done" });
      expect(mock.commandCalls(StartMalwareScanCommand)).toHaveLength(1);
    } finally {
      mock.restore();
      guardduty.destroy();
    }
  });

  it("is unavailable (with why) when Malware Protection is not enabled, and throws on throttling", async () => {
    const guardduty = new GuardDutyClient({ region: "us-east-1", credentials: awsTestEnv(moto.endpoint).credentials });
    const mock = mockClient(guardduty);
    try {
      const ctx = makeContext("i-0123456789abcdef0", { aws: { guardduty } });
      mock.on(StartMalwareScanCommand).rejects(
        new BadRequestException({ message: "The request is rejected: plan not enabled", $metadata: { httpStatusCode: 400 } }),
      );
      // Recorded `unavailable` with the reason, never as a success.
      const reason = "StartMalwareScan is not available in this region: BadRequestException (HTTP 400)";
      expect(await runSteps([malwareScan], ctx)).toEqual({ "malware-scan": "unavailable" });
      expect(await malwareScan.act(ctx, undefined)).toMatchObject({ reason, output: { started: false, reason } });
      expect(ctx.outputs.get("malware-scan")).toMatchObject({ started: false, reason });

      mock.on(StartMalwareScanCommand).rejects(
        new GuardDutyServiceException({
          name: "ThrottlingException",
          $fault: "client",
          message: "slow down",
          $metadata: { httpStatusCode: 429 },
        }),
      );
      await expect(malwareScan.act(ctx, undefined)).rejects.toMatchObject({ name: "ThrottlingException" });
    } finally {
      mock.restore();
      guardduty.destroy();
    }
  });
});

describe("leave-auto-scaling", () => {
  it("detaches (capacity kept) when Auto Scaling refuses standby", async () => {
    // moto accepts EnterStandby in every state, so the refusal is mocked.
    const autoscaling = new AutoScalingClient({ region: "us-east-1", credentials: awsTestEnv(moto.endpoint).credentials });
    const mock = mockClient(autoscaling);
    const instanceId = "i-0123456789abcdef0";
    mock
      .on(DescribeAutoScalingInstancesCommand)
      .resolves({
        AutoScalingInstances: [{ InstanceId: instanceId, AutoScalingGroupName: "web", LifecycleState: "Pending" } as never],
        $metadata: {},
      });
    mock.on(EnterStandbyCommand).rejects(
      new AutoScalingServiceException({
        name: "ValidationError",
        $fault: "client",
        message: "not in InService",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    mock.on(DetachInstancesCommand).resolves({ $metadata: {} });
    try {
      const ctx = makeContext(instanceId, { aws: { autoscaling } });
      expect(await leaveAutoScaling.act(ctx, undefined)).toEqual({
        action: "detached",
        groupName: "web",
        lifecycleState: "Detached",
      });
      expect(mock.commandCalls(DetachInstancesCommand)[0]?.args[0].input).toEqual({
        AutoScalingGroupName: "web",
        InstanceIds: [instanceId],
        ShouldDecrementDesiredCapacity: false,
      });
    } finally {
      mock.restore();
      autoscaling.destroy();
    }
  });
});

describe("plan and dry-run", () => {
  it("change nothing, report EC2 permissions from DryRun, and plan two swaps per interface (transit, then containment)", async () => {
    const seeded = await seedInstance(clients);
    const ctx = makeContext(seeded.instanceId);
    const before = await observableState(seeded, ctx.tags.remediationId);

    // Dry-run mode, as the engine runs it: every step's act in order, its changes recorded and
    // checked with DryRun where EC2 has it, outputs passed on (identify's reads are real).
    const steps = instancePlaybook({ terminate: true }).steps;
    const outputs = new Map<string, Json>();
    const plans: Record<string, unknown[]> = {};
    for (const step of steps) {
      const recorded = await derive(step, ctx, "dry_run", outputs);
      plans[step.name] = recorded.calls;
      for (const result of recorded.permissions) expect(result, `${step.name}: ${result.detail}`).toMatchObject({ permitted: true });
      if (step.name === "leave-auto-scaling") {
        expect(recorded.permissions).toEqual([{ permitted: true, detail: "EnterStandby: no DryRun for autoscaling; not checked" }]);
      }
      if (step.name === "isolate") {
        // The group act would create first cannot be checked: the calls on it say so.
        expect(recorded.permissions.map((p) => p.detail)).toContain("RevokeSecurityGroupEgress: not checked, it uses the answer of an earlier call");
      }
    }
    expect(await observableState(seeded, ctx.tags.remediationId)).toEqual(before);

    // The groups act creates are named in the calls after them, with their role and VPC (an
    // instance with interfaces in two VPCs gets new groups in each). The new containment group's
    // default egress rules go before any interface moves in; each interface goes original →
    // transit → containment.
    const containment = `(the group CreateSecurityGroup returns for containment in ${seeded.vpcId})`;
    const transit = `(the group CreateSecurityGroup returns for transit in ${seeded.vpcId})`;
    const swap = (eniId: string, groupId: string): unknown => ({
      service: "ec2",
      operation: "ModifyNetworkInterfaceAttribute",
      params: { NetworkInterfaceId: eniId, Groups: [groupId] },
    });
    expect(plans["isolate"]).toEqual([
      {
        service: "ec2",
        operation: "CreateSecurityGroup",
        params: expect.objectContaining({ GroupName: ISOLATION_GROUP, VpcId: seeded.vpcId }) as unknown,
      },
      { service: "ec2", operation: "RevokeSecurityGroupEgress", params: { GroupId: containment, IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] } },
      { service: "ec2", operation: "RevokeSecurityGroupEgress", params: { GroupId: containment, IpPermissions: [{ IpProtocol: "-1", Ipv6Ranges: [{ CidrIpv6: "::/0" }] }] } },
      {
        service: "ec2",
        operation: "CreateSecurityGroup",
        params: expect.objectContaining({ GroupName: TRANSIT_GROUP, VpcId: seeded.vpcId }) as unknown,
      },
      swap(seeded.primaryEniId, transit),
      swap(seeded.primaryEniId, containment),
      swap(seeded.secondaryEniId, transit),
      swap(seeded.secondaryEniId, containment),
    ]);
    expect(plans["leave-auto-scaling"]).toEqual([
      {
        service: "autoscaling",
        operation: "EnterStandby",
        params: {
          AutoScalingGroupName: seeded.autoScalingGroupName,
          InstanceIds: [seeded.instanceId],
          ShouldDecrementDesiredCapacity: false,
        },
      },
    ]);
    expect(plans["leave-target-groups"]).toEqual([
      {
        service: "elbv2",
        operation: "DeregisterTargets",
        params: { TargetGroupArn: seeded.targetGroupArn, Targets: [{ Id: seeded.instanceId, Port: seeded.targetPort }] },
      },
    ]);
    expect(plans["snapshot-volumes"]).toHaveLength(seeded.volumeIds.length);
    expect(plans["protect-evidence"]).toHaveLength(3);
    expect(plans["identify"]).toEqual([]);
    expect(plans["verify"]).toEqual([]);

    // Once the group exists, the plan swaps into its real id, and every call can be checked.
    await runSteps([createIdentifyStep(), leaveAutoScaling, isolate], ctx);
    const [group] = await isolationGroups(seeded.vpcId);
    const [transitGroup] = await isolationGroups(seeded.vpcId, TRANSIT_GROUP);
    await restoreGroups.act(ctx, undefined);
    const replanned = await derive(isolate, ctx, "dry_run");
    expect(replanned.calls).toEqual([
      swap(seeded.primaryEniId, transitGroup?.GroupId ?? ""),
      swap(seeded.primaryEniId, group?.GroupId ?? ""),
      swap(seeded.secondaryEniId, transitGroup?.GroupId ?? ""),
      swap(seeded.secondaryEniId, group?.GroupId ?? ""),
    ]);
    for (const result of replanned.permissions) expect(result.permitted, result.detail).toBe(true);
  });
});
