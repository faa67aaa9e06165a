// The two isolation groups against hostile and unlucky conditions, on moto, Postgres and Redis: a
// squatted name or a look-alike group never blocks or weakens containment; a new containment
// group never keeps a rule; an interface a failing worker left on the transit group is moved on
// by the re-run or by the sweep; and what the previous, one-group procedure's crash left (its
// temporary all-traffic egress rule on the isolation group, today's containment group, with an
// open egress record) is revoked by the next look at the group under the lock, or by the sweep
// when nothing else ever happens in that VPC. The steps run with a context like the engine's:
// audit events written to Postgres, the VPC lock held in Redis.
import { randomUUID } from "node:crypto";
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  EC2ServiceException,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { GuardDutyClient } from "@aws-sdk/client-guardduty";
import { IAMClient } from "@aws-sdk/client-iam";
import { ECRClient } from "@aws-sdk/client-ecr";
import { ECSClient } from "@aws-sdk/client-ecs";
import type { AwsClients } from "@gdr/core/aws/clients";
import { createAwsClientFactory } from "@gdr/core/aws/factory";
import { createLogger } from "@gdr/core/log";
import { loadWorkerConfig } from "@gdr/worker/config";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createResourceLocks, type ResourceLocks } from "../../services/worker/src/engine/limits/index.js";
import { callsFor } from "../../services/worker/src/engine/calls.js";
import { VerificationError, isNotAvailable, type ApiFamily, type Json, type Step, type StepContext } from "../../services/worker/src/engine/step.js";
import { createEngineStore } from "../../services/worker/src/engine/store.js";
import { createIdentifyStep } from "../../services/worker/src/playbooks/instance/01-identify.js";
import { isolate } from "../../services/worker/src/playbooks/instance/03-isolate.js";
import { EniChangeRefused, isolateEnis, lockName, readEnisByIds } from "../../services/worker/src/playbooks/kit/isolation/index.js";
import { restoreGroups } from "../../services/worker/src/playbooks/instance/release/restore-groups.js";
import { sweepLeftoverEgress, type EgressSweepDeps } from "../../services/worker/src/playbooks/instance/sweep/egress-sweep.js";
import { injectFaults } from "../support/aws-faults.js";
import {
  awsTestEnv,
  createTestDatabase,
  createTestRedis,
  seedInstance,
  seedVpc,
  startMoto,
  type Moto,
  type SeededInstance,
  type TestDatabase,
  type TestRedis,
} from "../support/index.js";

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const USUAL_NAME = "guardduty-responder-isolation";
const TRANSIT_NAME = "guardduty-responder-transit";
const ROLE_TAG = { Key: "guardduty-responder:role", Value: "isolation" };
const TRANSIT_TAG = { Key: "guardduty-responder:role", Value: "isolation-transit" };
const OPENED = "isolation.egress_opened";
const CLOSED = "isolation.egress_closed";
const ENTERED = "isolation.transit_entered";
const LEFT = "isolation.transit_left";

let moto: Moto;
let db: TestDatabase;
let redis: TestRedis;
let locks: ResourceLocks;
let clients: AwsClients;
const destroyOnExit: { destroy(): void }[] = [];

function ec2Client(): EC2Client {
  const env = awsTestEnv(moto.endpoint);
  const client = new EC2Client({ region: REGION, endpoint: env.endpoint, credentials: env.credentials, maxAttempts: 1 });
  destroyOnExit.push(client);
  return client;
}

beforeAll(async () => {
  [moto, db] = await Promise.all([startMoto(), createTestDatabase()]);
  redis = createTestRedis();
  locks = createResourceLocks(redis.connection, { prefix: `${redis.prefix}:limits`, ttlMs: 30_000 });
  const env = awsTestEnv(moto.endpoint);
  const config = { region: REGION, endpoint: env.endpoint, credentials: env.credentials, maxAttempts: 1 };
  clients = {
    accountId: ACCOUNT,
    region: REGION,
    ec2: ec2Client(),
    autoscaling: new AutoScalingClient(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
    guardduty: new GuardDutyClient(config),
    iam: new IAMClient(config),
    ecs: new ECSClient(config),
    ecr: new ECRClient(config),
  };
  destroyOnExit.push(clients.autoscaling, clients.elbv2, clients.guardduty, clients.iam, clients.ecs, clients.ecr);
});

afterAll(async () => {
  for (const client of destroyOnExit) client.destroy();
  await Promise.all([moto.stop(), db.drop(), redis.cleanup()]);
});

beforeEach(async () => {
  // audit_events is append-only: earlier tests' records stay, and every assertion below reads
  // only its own VPC's (a reset moto never gives the same VPC id twice in a run).
  await moto.reset();
});

// ---------------------------------------------------------------------------------------------
// A step context as the engine builds it: audit events to Postgres, the named lock in Redis.

function makeContext(instanceId: string, ec2: EC2Client = clients.ec2): StepContext & { outputs: Map<string, Json> } {
  const remediationId = randomUUID();
  const findingId = randomUUID().replaceAll("-", "");
  const store = createEngineStore(db.prisma);
  const aws = { ...clients, ec2 };
  const signal = new AbortController().signal;
  const throttle = (): Promise<void> => Promise.resolve();
  const noteRequestId = (): void => undefined;
  // Reads and changes through the engine's own call path, in act mode.
  const calls = callsFor("act", { aws, signal, throttle, noteRequestId });
  return {
    remediation: { id: remediationId, findingId, accountId: ACCOUNT, region: REGION, resourceKey: instanceId, playbook: "instance", mode: "auto" },
    finding: {},
    mode: "act",
    aws,
    read: calls.read,
    change: calls.change,
    changeOutside: calls.changeOutside,
    client: () => Promise.reject(new Error("the instance playbook has no outside client")),
    outputs: new Map<string, Json>(),
    signal,
    logger: createLogger({ level: "silent", name: "t" }),
    throttle,
    noteRequestId,
    tags: { findingId, remediationId },
    withLock: (name, fn) => locks.withLock(name, () => fn()),
    audit: (action, detail) => store.audit(remediationId, "worker", action, detail),
    marked: (action) => store.hasAudit(remediationId, action),
    startRemediation: () => Promise.reject(new Error("isolation starts no other remediation")),
  };
}

/** check → act → verify per step, as the engine runs them. */
async function runSteps(steps: readonly Step[], ctx: StepContext & { outputs: Map<string, Json> }): Promise<void> {
  for (const step of steps) {
    const checked = await step.check(ctx);
    if (checked.done) {
      ctx.outputs.set(step.name, checked.output);
      continue;
    }
    const result = await step.act(ctx, checked.state);
    const output = step.output.parse(isNotAvailable(result) ? result.output : result);
    await step.verify(ctx, output);
    ctx.outputs.set(step.name, output);
  }
}

async function seedBare(vpc?: Awaited<ReturnType<typeof seedVpc>>): Promise<SeededInstance> {
  return seedInstance(clients, { autoScaling: false, targetGroup: false, ...(vpc ? { vpc } : {}) });
}

async function isolateInstance(seeded: SeededInstance, ec2?: EC2Client): Promise<void> {
  await runSteps([createIdentifyStep(), isolate], makeContext(seeded.instanceId, ec2));
}

// ---------------------------------------------------------------------------------------------
// Reading moto and Postgres.

async function group(groupId: string): Promise<SecurityGroup> {
  const out = await clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
  const found = out.SecurityGroups?.[0];
  if (!found) throw new Error(`moto has no group ${groupId}`);
  return found;
}

/** The service's groups of a role in the VPC, as an operator would list them: by the role tag. */
async function taggedGroups(vpcId: string, tag: { Key: string; Value: string } = ROLE_TAG): Promise<SecurityGroup[]> {
  const out = await clients.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }, { Name: `tag:${tag.Key}`, Values: [tag.Value] }] }));
  return out.SecurityGroups ?? [];
}

async function eniGroups(instanceId: string): Promise<string[][]> {
  const out = await clients.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [instanceId] }] }));
  return (out.NetworkInterfaces ?? []).map((e) => (e.Groups ?? []).map((g) => g.GroupId ?? ""));
}

/** A group's rules, without what moto adds on each read (rule ids): what "untouched" compares. */
function rulesOf(g: SecurityGroup): unknown {
  const strip = (perms: SecurityGroup["IpPermissions"]) =>
    (perms ?? []).map((p) => ({ proto: p.IpProtocol, from: p.FromPort, to: p.ToPort, v4: (p.IpRanges ?? []).map((r) => r.CidrIp), v6: (p.Ipv6Ranges ?? []).map((r) => r.CidrIpv6) }));
  return { ingress: strip(g.IpPermissions), egress: strip(g.IpPermissionsEgress), tags: g.Tags ?? [] };
}

/** The VPC's egress records, oldest first. */
async function ledger(vpcId: string): Promise<{ action: string; by: string | null }[]> {
  const { rows } = await db.pool.query<{ action: string; by: string | null }>(
    "SELECT action, detail->>'by' AS by FROM audit_events WHERE action IN ($1, $2) AND detail->>'vpcId' = $3 ORDER BY id",
    [OPENED, CLOSED, vpcId],
  );
  return rows;
}

function groupsOf(seeded: SeededInstance, eniId: string): string[] {
  return seeded.eniGroups[eniId] ?? [];
}

/** The transit marks of an interface, oldest first. */
async function marks(eniId: string): Promise<{ action: string; to: string | null; actor: string }[]> {
  const { rows } = await db.pool.query<{ action: string; to: string | null; actor: string }>(
    "SELECT action, detail->>'to' AS to, actor FROM audit_events WHERE action IN ($1, $2) AND detail->>'eniId' = $3 ORDER BY id",
    [ENTERED, LEFT, eniId],
  );
  return rows;
}

/** A finding and its remediation in Postgres, with that status: what the sweep reads of a mark's remediation. */
async function remediationRow(instanceId: string, status: string): Promise<string> {
  const findingId = randomUUID().replaceAll("-", "");
  await db.pool.query(
    `INSERT INTO findings (id, arn, account_id, region, partition, type, severity, title, resource_type, resource_key, count, archived, sample, gd_created_at, gd_updated_at, raw)
     VALUES ($1, $2, $3, $4, 'aws', 'Backdoor:EC2/C&CActivity.B', 8, 't', 'Instance', $5, 1, false, false, now(), now(), '{}'::jsonb)`,
    [findingId, `arn:aws:guardduty:${REGION}:${ACCOUNT}:detector/d/finding/${findingId}`, ACCOUNT, REGION, instanceId],
  );
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO remediations (id, finding_id, playbook, resource_key, account_id, region, mode, status, rule_name, job_id, updated_at)
     VALUES (gen_random_uuid(), $1, 'instance', $2, $3, $4, 'auto', $5::"RemediationStatus", 'test', $1, now()) RETURNING id::text AS id`,
    [findingId, instanceId, ACCOUNT, REGION, status],
  );
  return rows[0]?.id ?? "";
}

/** The transit group an interface's first mark names. */
async function transitOfMarks(eniId: string): Promise<string> {
  const { rows } = await db.pool.query<{ transit: string }>(
    "SELECT detail->>'transitGroupId' AS transit FROM audit_events WHERE action = $1 AND detail->>'eniId' = $2 ORDER BY id LIMIT 1",
    [ENTERED, eniId],
  );
  return rows[0]?.transit ?? "";
}

/** A sweep, as seen from one VPC (records of earlier tests' VPCs are swept too). */
async function sweepFor(vpcId: string, deps: EgressSweepDeps): Promise<{ closed: string[][]; busy: boolean; refused?: true }> {
  const result = await sweepLeftoverEgress(deps);
  expect(result.failed).toEqual([]);
  return {
    closed: result.closed.filter((c) => c.vpcId === vpcId).map((c) => c.groupIds),
    busy: result.busy.includes(vpcId),
    ...(result.refused.includes(vpcId) ? { refused: true as const } : {}),
  };
}

/**
 * What the previous, one-group procedure left when its worker died holding the temporary rule: an
 * instance of the VPC is isolated (by this version: the group is the same, same name and tag),
 * then the all-traffic egress rule is put on the group and the "opened" record written, exactly
 * as that version did before it swapped the next instance in. Every instance in the group can
 * reach out again.
 */
async function legacyCrash(vpc: Awaited<ReturnType<typeof seedVpc>>): Promise<{ groupId: string; isolated: SeededInstance }> {
  const isolated = await seedBare(vpc);
  await isolateInstance(isolated);
  const [groupId] = (await eniGroups(isolated.instanceId))[0] ?? [];
  if (!groupId) throw new Error("the first instance was not isolated");
  await clients.ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] }));
  await db.pool.query("INSERT INTO audit_events (actor, action, aws_request_ids, detail) VALUES ('worker', $1, '{}', $2::jsonb)", [
    OPENED,
    JSON.stringify({ accountId: ACCOUNT, region: REGION, vpcId: vpc.vpcId, groupIds: [groupId] }),
  ]);
  expect((await group(groupId)).IpPermissionsEgress).toEqual([expect.objectContaining({ IpProtocol: "-1" })]);
  return { groupId, isolated };
}

/**
 * An EC2 client whose `nth` ModifyNetworkInterfaceAttribute, and every later one, fails with a
 * 500: an interface moved onto transit whose move on to containment fails is what a worker dying
 * between the two leaves (with its mark open). With `refusal`, only the `nth` fails, with that
 * client error: AWS refusing the change.
 */
function failingNthSwap(nth: number, refusal?: { code: string; status: number }): EC2Client {
  const client = ec2Client();
  let seen = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== "ModifyNetworkInterfaceAttributeCommand") return next(args);
      ++seen;
      if (refusal && seen === nth) {
        // A client error, as AWS answers a change it will not make (fatal for core's classifier).
        throw new EC2ServiceException({ name: refusal.code, $fault: "client", $metadata: { httpStatusCode: refusal.status }, message: "test: refused" });
      }
      if (!refusal && seen >= nth) {
        throw new EC2ServiceException({ name: "InternalError", $fault: "server", $metadata: { httpStatusCode: 500 }, message: "test: worker died here" });
      }
      return next(args);
    },
    { step: "finalizeRequest", name: "test-fail-nth-swap" },
  );
  return client;
}

function sweepDeps(families: [string, ApiFamily][] = [], allowed: readonly string[] = [ACCOUNT]): EgressSweepDeps {
  const env = awsTestEnv(moto.endpoint);
  const aws = createAwsClientFactory({ localAccountId: ACCOUNT, roleName: "GuardDutyResponder", endpoint: env.endpoint, credentials: env.credentials, stsRegion: REGION, maxAttempts: 1 });
  destroyOnExit.push(aws);
  return {
    prisma: db.prisma,
    aws,
    throttle: (accountId, family) => {
      families.push([accountId, family]);
      return Promise.resolve();
    },
    locks,
    logger: createLogger({ level: "silent", name: "t" }),
    signal: new AbortController().signal,
    minAgeMs: 0,
    accountRefusal: (accountId) => (allowed.includes(accountId) ? null : `account ${accountId} is not allowed`),
  };
}

// ---------------------------------------------------------------------------------------------

describe("isolation group squatting", () => {
  it("an untagged group holding the usual name never blocks containment: the instance goes into the service's own tagged group, the squatter's group is untouched", async () => {
    const vpc = await seedVpc(clients);
    const squatter = await clients.ec2.send(new CreateSecurityGroupCommand({ GroupName: USUAL_NAME, Description: "not the responder's", VpcId: vpc.vpcId }));
    const squatterId = squatter.GroupId ?? "";
    await clients.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: squatterId, IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] }),
    );
    const squatterBefore = rulesOf(await group(squatterId));

    const first = await seedBare(vpc);
    const second = await seedBare(vpc);
    await isolateInstance(first);
    await isolateInstance(second);

    // One group of ours, found again by its tag for the second instance, under another name.
    const ours = await taggedGroups(vpc.vpcId);
    expect(ours).toHaveLength(1);
    const oursId = ours[0]?.GroupId ?? "";
    expect(oursId).not.toBe(squatterId);
    expect(ours[0]?.GroupName).toMatch(/^guardduty-responder-isolation-[0-9a-f]{12}$/);
    expect(ours[0]?.IpPermissions).toEqual([]);
    expect(ours[0]?.IpPermissionsEgress).toEqual([]);
    for (const s of [first, second]) expect(await eniGroups(s.instanceId)).toEqual([[oursId], [oursId]]);
    expect(rulesOf(await group(squatterId))).toEqual(squatterBefore);
    // One transit group, its usual name free, holding only its all-traffic egress rule.
    const transit = await taggedGroups(vpc.vpcId, TRANSIT_TAG);
    expect(transit.map((g) => [g.GroupName, g.IpPermissions, egressRanges(g)])).toEqual([[TRANSIT_NAME, [], ["0.0.0.0/0"]]]);
  });

  it("a group carrying the service's tag but rules the service never adds is neither used nor changed: containment goes into a group whose rules it knows", async () => {
    const vpc = await seedVpc(clients);
    const lookalike = await clients.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: USUAL_NAME,
        Description: "copied the tags",
        VpcId: vpc.vpcId,
        TagSpecifications: [{ ResourceType: "security-group", Tags: [ROLE_TAG] }],
      }),
    );
    const lookalikeId = lookalike.GroupId ?? "";
    await clients.ec2.send(
      new AuthorizeSecurityGroupEgressCommand({ GroupId: lookalikeId, IpPermissions: [{ IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "198.51.100.7/32" }] }] }),
    );
    const lookalikeBefore = rulesOf(await group(lookalikeId));

    const seeded = await seedBare(vpc);
    await isolateInstance(seeded);

    const [eniA, eniB] = await eniGroups(seeded.instanceId);
    const usedId = eniA?.[0] ?? "";
    expect(usedId).not.toBe(lookalikeId);
    expect([eniA, eniB]).toEqual([[usedId], [usedId]]);
    const used = await group(usedId);
    expect(used.Tags).toEqual(expect.arrayContaining([ROLE_TAG]));
    expect([used.IpPermissions, used.IpPermissionsEgress]).toEqual([[], []]);
    expect(rulesOf(await group(lookalikeId))).toEqual(lookalikeBefore);
  });
});

describe("a production group someone tagged with an isolation role", () => {
  it("is neither used nor changed, whatever its rules: a containment-tagged group keeps its egress, a transit-tagged one gets none, contained interfaces go into groups of the service's own names", async () => {
    const vpc = await seedVpc(clients);
    // Born with the all-traffic egress default and nothing else: by its rules alone it would pass
    // for a containment group with a leftover rule (revoked) or a transit group (used).
    const tagged = async (name: string, tag: { Key: string; Value: string }): Promise<string> =>
      (
        await clients.ec2.send(
          new CreateSecurityGroupCommand({ GroupName: name, Description: "production", VpcId: vpc.vpcId, TagSpecifications: [{ ResourceType: "security-group", Tags: [tag] }] }),
        )
      ).GroupId ?? "";
    const prodEgress = await tagged("prod-workers", ROLE_TAG);
    const prodLocked = await tagged("prod-locked", TRANSIT_TAG);
    // The locked-down one has no rule at all: a transit group without its rule would get it added.
    await clients.ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: prodLocked, IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] }));
    const before = [rulesOf(await group(prodEgress)), rulesOf(await group(prodLocked))];

    const seeded = await seedBare(vpc);
    await isolateInstance(seeded);

    const [eniA, eniB] = await eniGroups(seeded.instanceId);
    const usedId = eniA?.[0] ?? "";
    expect([eniA, eniB]).toEqual([[usedId], [usedId]]);
    expect((await group(usedId)).GroupName).toBe(USUAL_NAME);
    expect([rulesOf(await group(prodEgress)), rulesOf(await group(prodLocked))]).toEqual(before);
    // The interfaces passed through the service's own transit group, not the tagged one.
    const transitUsed = await transitOfMarks(seeded.primaryEniId);
    expect(transitUsed).not.toBe(prodLocked);
    expect((await group(transitUsed)).GroupName).toBe(TRANSIT_NAME);
  });
});

// moto gives a group created in a VPC with an IPv6 block the `::/0` egress default next to the
// IPv4 one, as AWS does (checked against moto 5.2.5): what the isolation must not leave behind.
async function seedV6Vpc(): Promise<Awaited<ReturnType<typeof seedVpc>>> {
  const out = await clients.ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16", AmazonProvidedIpv6CidrBlock: true }));
  const vpcId = out.Vpc?.VpcId ?? "";
  const subnet = async (cidr: string, zone: string): Promise<string> =>
    (await clients.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: zone }))).Subnet?.SubnetId ?? "";
  return { vpcId, subnetIds: [await subnet("10.0.1.0/24", "us-east-1a"), await subnet("10.0.2.0/24", "us-east-1b")] };
}

/** Egress rules as address ranges, whatever way moto groups them into permissions. */
function egressRanges(g: SecurityGroup): string[] {
  return (g.IpPermissionsEgress ?? []).flatMap((p) => [...(p.IpRanges ?? []).map((r) => r.CidrIp ?? ""), ...(p.Ipv6Ranges ?? []).map((r) => r.CidrIpv6 ?? "")]);
}

describe("a new containment group in a VPC with IPv6", () => {
  it("is left by act with no egress at all, IPv6 default included; only the transit group has egress; the egress ledger gets no record", async () => {
    const vpc = await seedV6Vpc();
    const seeded = await seedBare(vpc);
    const ctx = makeContext(seeded.instanceId);
    await runSteps([createIdentifyStep()], ctx);
    const checked = await isolate.check(ctx);
    if (checked.done) throw new Error("a new instance reads as isolated already");
    await isolate.act(ctx, checked.state);

    // Read straight after act, before verify could clean anything up.
    const [groupId] = (await eniGroups(seeded.instanceId))[0] ?? [];
    if (!groupId) throw new Error("the instance was not isolated");
    expect(egressRanges(await group(groupId))).toEqual([]);
    const [transit, ...more] = await taggedGroups(vpc.vpcId, TRANSIT_TAG);
    expect(more).toEqual([]);
    expect(egressRanges(transit ?? {})).toContain("0.0.0.0/0");
    expect(await ledger(vpc.vpcId)).toEqual([]);
    // Each interface marked entering transit, then leaving it for containment.
    for (const eniId of [seeded.primaryEniId, seeded.secondaryEniId]) {
      expect((await marks(eniId)).map((m) => [m.action, m.to])).toEqual([[ENTERED, null], [LEFT, "containment"]]);
    }
  });

  it("is left with no egress at all when the isolation fails half-way", async () => {
    const vpc = await seedV6Vpc();
    const failing = ec2Client();
    injectFaults(failing, [{ operation: "ModifyNetworkInterfaceAttribute", times: 1_000, name: "InternalError", httpStatus: 500, errorClass: EC2ServiceException }]);
    await expect(isolateInstance(await seedBare(vpc), failing)).rejects.toMatchObject({ name: "InternalError" });

    const ours = await taggedGroups(vpc.vpcId);
    expect(ours).toHaveLength(1);
    expect(egressRanges(ours[0] ?? {})).toEqual([]);
  });
});

describe("an interface left on the transit group", () => {
  /** Instance B's first interface on transit, its mark open: what a worker dying between the two moves leaves. */
  async function leftOnTransit(): Promise<{ vpc: Awaited<ReturnType<typeof seedVpc>>; seeded: SeededInstance; transitId: string; containmentId: string }> {
    const vpc = await seedVpc(clients);
    const seeded = await seedBare(vpc);
    await expect(isolateInstance(seeded, failingNthSwap(2))).rejects.toMatchObject({ name: "InternalError" });
    const [transit] = await taggedGroups(vpc.vpcId, TRANSIT_TAG);
    const [containment] = await taggedGroups(vpc.vpcId);
    const transitId = transit?.GroupId ?? "";
    const containmentId = containment?.GroupId ?? "";
    expect(await eniGroups(seeded.instanceId)).toEqual([[transitId], groupsOf(seeded, seeded.secondaryEniId)]);
    expect((await marks(seeded.primaryEniId)).map((m) => m.action)).toEqual([ENTERED]);
    return { vpc, seeded, transitId, containmentId };
  }

  it("the re-run finds it on transit and moves it on to containment, then the other interface through transit", async () => {
    const { seeded, containmentId } = await leftOnTransit();
    await isolateInstance(seeded);
    expect(await eniGroups(seeded.instanceId)).toEqual([[containmentId], [containmentId]]);
    expect((await marks(seeded.primaryEniId)).map((m) => [m.action, m.to])).toEqual([[ENTERED, null], [LEFT, "containment"]]);
    expect((await marks(seeded.secondaryEniId)).map((m) => [m.action, m.to])).toEqual([[ENTERED, null], [LEFT, "containment"]]);
  });

  it("the sweep moves it on to containment with no re-run, records it once, and leaves it alone while the VPC's lock is held", async () => {
    const { vpc, seeded, transitId, containmentId } = await leftOnTransit();
    const deps = sweepDeps();

    const held = await locks.acquire(lockName(vpc.vpcId));
    expect((await sweepLeftoverEgress(deps)).busy).toContain(vpc.vpcId);
    expect(await eniGroups(seeded.instanceId)).toEqual([[transitId], groupsOf(seeded, seeded.secondaryEniId)]);
    await held?.release();

    const swept = await sweepLeftoverEgress(deps);
    expect(swept.failed).toEqual([]);
    expect(swept.moved.filter((m) => m.vpcId === vpc.vpcId)).toEqual([{ eniId: seeded.primaryEniId, vpcId: vpc.vpcId, to: "containment" }]);
    expect(await eniGroups(seeded.instanceId)).toEqual([[containmentId], groupsOf(seeded, seeded.secondaryEniId)]);
    expect((await marks(seeded.primaryEniId)).map((m) => [m.action, m.to, m.actor])).toEqual([
      [ENTERED, null, "worker"],
      [LEFT, "containment", "worker:egress-sweep"],
    ]);
    expect((await group(containmentId)).IpPermissionsEgress).toEqual([]);
    // Nothing open any more.
    expect((await sweepLeftoverEgress(deps)).moved.filter((m) => m.vpcId === vpc.vpcId)).toEqual([]);
  });

  it("the sweep moves it to the VPC's usable containment group when someone has since added a rule to the one its mark names (refused: never used, never changed)", async () => {
    const { vpc, seeded, containmentId } = await leftOnTransit();
    // Opened by hand for forensic access: refused from now on.
    await clients.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: containmentId, IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "198.51.100.7/32" }] }] }),
    );
    const opened = rulesOf(await group(containmentId));
    // Another isolation in the VPC since created a containment group of its own (random name).
    await isolateInstance(await seedBare(vpc));
    const other = (await taggedGroups(vpc.vpcId)).find((g) => g.GroupId !== containmentId)?.GroupId ?? "";
    expect(other).not.toBe("");

    const swept = await sweepLeftoverEgress(sweepDeps());
    expect(swept.failed).toEqual([]);
    expect(swept.moved.filter((m) => m.vpcId === vpc.vpcId)).toEqual([{ eniId: seeded.primaryEniId, vpcId: vpc.vpcId, to: "containment" }]);
    expect((await eniGroups(seeded.instanceId))[0]).toEqual([other]);
    expect(rulesOf(await group(containmentId))).toEqual(opened);
  });

  it("the sweep keeps the mark of an interface not yet on transit open while its remediation is running (its worker may be waiting on its rate limits), and closes it once that has finished", async () => {
    const vpc = await seedVpc(clients);
    const seeded = await seedBare(vpc);
    const remediationId = await remediationRow(seeded.instanceId, "running");
    // The mark a worker wrote before its move onto transit, the move not sent yet.
    const [transitId, containmentId] = ["sg-0aaaaaaaaaaaaaaaa", "sg-0bbbbbbbbbbbbbbbb"];
    await db.pool.query("INSERT INTO audit_events (actor, action, remediation_id, aws_request_ids, detail) VALUES ('worker', $1, $2::uuid, '{}', $3::jsonb)", [
      ENTERED,
      remediationId,
      JSON.stringify({ accountId: ACCOUNT, region: REGION, vpcId: vpc.vpcId, eniId: seeded.primaryEniId, transitGroupId: transitId, containmentGroupId: containmentId }),
    ]);

    const waiting = await sweepLeftoverEgress(sweepDeps());
    expect(waiting.failed).toEqual([]);
    expect(waiting.pending).toContain(seeded.primaryEniId);
    expect((await marks(seeded.primaryEniId)).map((m) => m.action)).toEqual([ENTERED]);

    await db.pool.query("UPDATE remediations SET status = 'failed' WHERE id = $1::uuid", [remediationId]);
    const finished = await sweepLeftoverEgress(sweepDeps());
    expect(finished.moved.filter((m) => m.vpcId === vpc.vpcId)).toEqual([{ eniId: seeded.primaryEniId, vpcId: vpc.vpcId, to: "elsewhere" }]);
    expect((await eniGroups(seeded.instanceId))[0]).toEqual(groupsOf(seeded, seeded.primaryEniId));
  });

  it("the sweep leaves an interface someone moved elsewhere meanwhile where it is, and closes its mark", async () => {
    const { vpc, seeded } = await leftOnTransit();
    await clients.ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: seeded.primaryEniId, Groups: groupsOf(seeded, seeded.primaryEniId) }));
    const swept = await sweepLeftoverEgress(sweepDeps());
    expect(swept.moved.filter((m) => m.vpcId === vpc.vpcId)).toEqual([{ eniId: seeded.primaryEniId, vpcId: vpc.vpcId, to: "elsewhere" }]);
    expect((await eniGroups(seeded.instanceId))[0]).toEqual(groupsOf(seeded, seeded.primaryEniId));
  });
});

describe("AWS refusing a change of an interface's groups", () => {
  it("throws EniChangeRefused after putting every interface it had moved back on its groups, marks closed", async () => {
    const vpc = await seedVpc(clients);
    const seeded = await seedBare(vpc);
    const ctx = makeContext(seeded.instanceId, failingNthSwap(3, { code: "OperationNotPermitted", status: 400 }));
    await runSteps([createIdentifyStep()], ctx);
    // Swaps 1 and 2 take the primary interface through transit into containment; the 3rd (the
    // second interface onto transit) is refused.
    const enis = await readEnisByIds(ctx, [seeded.primaryEniId, seeded.secondaryEniId]);
    const refused = await isolateEnis(ctx, enis, (e) => seeded.eniGroups[e.id] ?? []).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(EniChangeRefused);
    expect(refused).toMatchObject({ eniId: seeded.secondaryEniId, code: "OperationNotPermitted", awsMessage: "test: refused", restored: true });
    expect(await eniGroups(seeded.instanceId)).toEqual([groupsOf(seeded, seeded.primaryEniId), groupsOf(seeded, seeded.secondaryEniId)]);
    expect((await marks(seeded.primaryEniId)).map((m) => [m.action, m.to])).toEqual([[ENTERED, null], [LEFT, "containment"]]);
    expect((await marks(seeded.secondaryEniId)).map((m) => [m.action, m.to])).toEqual([[ENTERED, null], [LEFT, "unchanged"]]);
  });
});

describe("a group EC2 does not show yet (eventual consistency) or that was deleted", () => {
  it("InvalidGroup.NotFound on a move is a VerificationError the engine retries, not a refusal, nothing put back; the re-run contains", async () => {
    const vpc = await seedVpc(clients);
    const seeded = await seedBare(vpc);
    // The move on to containment (the second) answered as AWS does for a group it does not know yet.
    const failing = failingNthSwap(2, { code: "InvalidGroup.NotFound", status: 400 });
    const error = await isolateInstance(seeded, failing).then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(VerificationError);
    const [transit] = await taggedGroups(vpc.vpcId, TRANSIT_TAG);
    // Left on transit, its mark open, for the retry (or the sweep).
    expect((await eniGroups(seeded.instanceId))[0]).toEqual([transit?.GroupId]);
    expect((await marks(seeded.primaryEniId)).map((m) => m.action)).toEqual([ENTERED]);

    await isolateInstance(seeded);
    const [containment] = await taggedGroups(vpc.vpcId);
    expect(await eniGroups(seeded.instanceId)).toEqual([[containment?.GroupId], [containment?.GroupId]]);
  });
});

describe("release by a second remediation of an instance another one contained", () => {
  it("leaves the interfaces where they are instead of containing them again after the first one's release", async () => {
    const vpc = await seedVpc(clients);
    const seeded = await seedBare(vpc);
    // The first remediation contains the instance.
    const first = makeContext(seeded.instanceId);
    await runSteps([createIdentifyStep(), isolate], first);
    // A second finding's remediation finds it contained: its identify records the containment group.
    const second = makeContext(seeded.instanceId);
    await runSteps([createIdentifyStep(), isolate], second);
    const [containment] = await taggedGroups(vpc.vpcId);
    const recordedBySecond = (second.outputs.get("isolate") as { enis: { previousGroupIds: string[] }[] }).enis.map((e) => e.previousGroupIds);
    expect(recordedBySecond).toEqual([[containment?.GroupId], [containment?.GroupId]]);

    // Released in the unlucky order: the first (which restores), then the second.
    await runSteps([restoreGroups], first);
    const original = [groupsOf(seeded, seeded.primaryEniId), groupsOf(seeded, seeded.secondaryEniId)];
    expect(await eniGroups(seeded.instanceId)).toEqual(original);
    await runSteps([restoreGroups], second);
    // Before: the second release put both interfaces back on the containment group.
    expect(await eniGroups(seeded.instanceId)).toEqual(original);
    expect(second.outputs.get("restore-groups")).toEqual({ enis: [], gone: [] });
  });
});

describe("release of an instance isolated by the previous version", () => {
  it("reads the old isolate output (isolationGroupId, groups[{groupId}]) and puts the recorded groups back", async () => {
    const vpc = await seedVpc(clients);
    const seeded = await seedBare(vpc);
    const ctx = makeContext(seeded.instanceId);
    await runSteps([createIdentifyStep(), isolate], ctx);
    const [containmentId] = (await eniGroups(seeded.instanceId))[0] ?? [];
    const enis = [seeded.primaryEniId, seeded.secondaryEniId].map((id) => ({ id, vpcId: vpc.vpcId, previousGroupIds: groupsOf(seeded, id) }));
    // What the one-group version recorded for this isolation.
    ctx.outputs.set("isolate", { isolationGroupId: containmentId ?? "", groups: [{ vpcId: vpc.vpcId, groupId: containmentId ?? "", created: true }], enis });
    await isolate.verify(ctx, ctx.outputs.get("isolate") ?? null);

    await runSteps([restoreGroups], ctx);
    expect(await eniGroups(seeded.instanceId)).toEqual([groupsOf(seeded, seeded.primaryEniId), groupsOf(seeded, seeded.secondaryEniId)]);
    expect(ctx.outputs.get("restore-groups")).toEqual({ enis: enis.map((e) => ({ id: e.id, groupIds: e.previousGroupIds })), gone: [] });
  });
});

describe("the previous procedure's temporary egress rule after a worker died holding it", () => {
  it("the next isolation in that VPC leaves the group with no egress rule at all, and the record closed", async () => {
    const vpc = await seedVpc(clients);
    const { groupId } = await legacyCrash(vpc);

    const next = await seedBare(vpc);
    await isolateInstance(next);

    expect((await group(groupId)).IpPermissionsEgress).toEqual([]);
    expect(await eniGroups(next.instanceId)).toEqual([[groupId], [groupId]]);
    expect((await ledger(vpc.vpcId)).at(-1)).toMatchObject({ action: CLOSED, by: "check" });
  });

  it("a check of the group under the lock revokes the leftover rule: an already isolated instance reads as isolated, with no egress on its group", async () => {
    const vpc = await seedVpc(clients);
    const { groupId, isolated } = await legacyCrash(vpc);

    const ctx = makeContext(isolated.instanceId);
    await runSteps([createIdentifyStep()], ctx);
    expect(await isolate.check(ctx)).toMatchObject({ done: true });

    expect((await group(groupId)).IpPermissionsEgress).toEqual([]);
    expect((await ledger(vpc.vpcId)).at(-1)).toMatchObject({ action: CLOSED, by: "check" });
  });

  it("the sweep revokes it with no further isolation in that VPC, in the record's account through the rate limits, and closes the record once", async () => {
    const vpc = await seedVpc(clients);
    const { groupId } = await legacyCrash(vpc);

    const families: [string, ApiFamily][] = [];
    const deps = sweepDeps(families);
    expect(await sweepFor(vpc.vpcId, deps)).toEqual({ closed: [[groupId]], busy: false });

    expect((await group(groupId)).IpPermissionsEgress).toEqual([]);
    expect((await ledger(vpc.vpcId)).at(-1)).toMatchObject({ action: CLOSED, by: "sweep" });
    expect(families).toEqual(expect.arrayContaining([[ACCOUNT, "ec2-read"], [ACCOUNT, "ec2-write"]]));
    // Nothing open any more: a second sweep has nothing to do there.
    expect(await sweepFor(vpc.vpcId, deps)).toEqual({ closed: [], busy: false });
    expect((await ledger(vpc.vpcId)).filter((r) => r.by === "sweep")).toHaveLength(1);
  });

  it("the sweep leaves the VPC alone while its lock is held: the rule stays, once the lock is free it goes", async () => {
    const vpc = await seedVpc(clients);
    const { groupId } = await legacyCrash(vpc);
    const deps = sweepDeps();

    const inFlight = await locks.acquire(lockName(vpc.vpcId));
    expect(inFlight).not.toBeNull();
    expect(await sweepFor(vpc.vpcId, deps)).toEqual({ closed: [], busy: true });
    expect((await group(groupId)).IpPermissionsEgress).toEqual([expect.objectContaining({ IpProtocol: "-1" })]);
    expect((await ledger(vpc.vpcId)).at(-1)).toMatchObject({ action: OPENED });

    await inFlight?.release();
    expect(await sweepFor(vpc.vpcId, deps)).toEqual({ closed: [[groupId]], busy: false });
    expect((await group(groupId)).IpPermissionsEgress).toEqual([]);
  });

  it("the sweep does not look at a record younger than the lock TTL (its isolation may still be running)", async () => {
    const vpc = await seedVpc(clients);
    const { groupId } = await legacyCrash(vpc);

    expect(await sweepFor(vpc.vpcId, { ...sweepDeps(), minAgeMs: 60_000 })).toEqual({ closed: [], busy: false });
    expect((await group(groupId)).IpPermissionsEgress).toEqual([expect.objectContaining({ IpProtocol: "-1" })]);
  });
});

describe("egress sweep and the allow list", () => {
  it("the sweep changes nothing in an account taken off the allow list, and keeps the record open for when it comes back", async () => {
    const vpc = await seedVpc(clients);
    const { groupId } = await legacyCrash(vpc);

    const families: [string, ApiFamily][] = [];
    expect(await sweepFor(vpc.vpcId, sweepDeps(families, []))).toEqual({ closed: [], busy: false, refused: true });
    expect(families).toEqual([]);
    expect((await group(groupId)).IpPermissionsEgress).toEqual([expect.objectContaining({ IpProtocol: "-1" })]);
    expect((await ledger(vpc.vpcId)).at(-1)).toMatchObject({ action: OPENED });

    expect(await sweepFor(vpc.vpcId, sweepDeps())).toEqual({ closed: [[groupId]], busy: false });
  });
});

describe("egress sweep settings", () => {
  it("reads WORKER_EGRESS_SWEEP_MS in the worker's config, 60 s by default, and refuses less than a second", () => {
    const base = { DATABASE_URL: "postgresql://u@h/db", REDIS_URL: "redis://h:6379", AWS_REGION: "us-east-1" };
    expect(loadWorkerConfig(base).WORKER_EGRESS_SWEEP_MS).toBe(60_000);
    expect(loadWorkerConfig({ ...base, WORKER_EGRESS_SWEEP_MS: "5000" }).WORKER_EGRESS_SWEEP_MS).toBe(5_000);
    expect(() => loadWorkerConfig({ ...base, WORKER_EGRESS_SWEEP_MS: "5" })).toThrow(/WORKER_EGRESS_SWEEP_MS: must be at least 1000/);
  });
});
