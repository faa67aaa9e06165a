// Isolating a resource never reopens one already contained in the same VPC (issue 10, item 1).
// Instance A is contained first; then B and C, in A's VPC, are contained concurrently by the
// worker (end to end from SQS). Meanwhile a poller reads moto in a loop, until B and C are done:
// every group A's interfaces are on, every rule of those groups, and B's and C's interfaces'
// groups. SDK middleware on the worker's own EC2 client records every changing call it sent.
//
// On the previous, one-group procedure this test fails: isolating B (and C) sent
// AuthorizeSecurityGroupEgress {0.0.0.0/0, all traffic} to the VPC's one isolation group, the
// group A's interfaces were in, swapped B's interfaces in and then revoked the rule: "no
// Authorize* call targeted A's group" fails on the recorded calls, and the poller, reading while
// B's swap ran, sees the all-traffic egress rule on A's group ("A's group never had a rule"),
// and B's interfaces go straight from their groups to A's, never through a transit group.
// (Run against the commit before the two-group procedure, with the transit lookups made lenient
// and the assertions soft, this test reported: the poller saw A's group with 1 egress rule at some
// of its 50 observations, 2 AuthorizeSecurityGroupEgress calls on A's group, 4 group changes while
// B and C were contained, and each new interface moved once, straight to A's group.)
// With the two-group procedure the rule lives on the transit group only, which nothing
// contained is ever on.
import { DescribeNetworkInterfacesCommand, DescribeSecurityGroupsCommand, type SecurityGroup } from "@aws-sdk/client-ec2";
import type { AwsClients } from "@gdr/core/aws/clients";
import type { InitializeMiddleware, MiddlewareStack } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedVpc, TRANSIT_GROUP_NAME, type SeededInstance } from "../support/seed/instance.js";
import {
  createEngineWorld,
  findingFor,
  findingIdOf,
  remediationForFinding,
  seed,
  startLane,
  waitForStatus,
  type EngineWorld,
} from "./engine-harness.js";

const FINISHED = ["succeeded", "failed", "skipped", "escalated"];
const READ = /^(Describe|Get|List)/;

let world: EngineWorld;

beforeAll(async () => {
  world = await createEngineWorld();
});

afterAll(async () => {
  await world.close();
});

interface SentCall {
  operation: string;
  input: Record<string, unknown>;
}

/** Records every changing call the worker's EC2 client sends, in order, with its input. */
function recordEc2(calls: SentCall[]): (clients: AwsClients) => void {
  return (clients) => {
    const middleware: InitializeMiddleware<object, object> = (next, context) => (args) => {
      const operation = String(context.commandName).replace(/Command$/, "");
      if (!READ.test(operation)) calls.push({ operation, input: { ...(args.input as Record<string, unknown>) } });
      return next(args);
    };
    (clients.ec2 as unknown as { middlewareStack: MiddlewareStack<object, object> }).middlewareStack.add(middleware, {
      step: "initialize",
      name: "never-reopens-recorder",
    });
  };
}

interface Observation {
  /** Each watched interface's groups. */
  enis: Record<string, string[]>;
  /** Each group any watched interface was on, with its rules counted. */
  groups: Record<string, { ingress: number; egress: number }>;
}

function rules(perms: SecurityGroup["IpPermissions"]): number {
  return (perms ?? []).reduce(
    (n, p) => n + (p.IpRanges?.length ?? 0) + (p.Ipv6Ranges?.length ?? 0) + (p.PrefixListIds?.length ?? 0) + (p.UserIdGroupPairs?.length ?? 0),
    0,
  );
}

/**
 * Reads moto in a loop until `until` settles: the interfaces, then every group they are on. Each
 * pass is one observation; the loop waits on nothing but its own reads.
 */
async function watch(eniIds: readonly string[], until: Promise<unknown>): Promise<Observation[]> {
  const state = { done: false };
  const finished = until.finally(() => {
    state.done = true;
  });
  const seen: Observation[] = [];
  while (!state.done) {
    const enis = await world.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [...eniIds] }));
    const byEni = Object.fromEntries((enis.NetworkInterfaces ?? []).map((e) => [e.NetworkInterfaceId ?? "", (e.Groups ?? []).map((g) => g.GroupId ?? "")]));
    const groupIds = [...new Set(Object.values(byEni).flat())];
    const groups = await world.aws.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: groupIds }));
    seen.push({
      enis: byEni,
      groups: Object.fromEntries((groups.SecurityGroups ?? []).map((g) => [g.GroupId ?? "", { ingress: rules(g.IpPermissions), egress: rules(g.IpPermissionsEgress) }])),
    });
  }
  await finished;
  return seen;
}

/** The distinct group sets an interface went through, in order (repeats of one observation collapsed). */
function path(seen: readonly Observation[], eniId: string): string[][] {
  const steps: string[][] = [];
  for (const o of seen) {
    const groups = [...(o.enis[eniId] ?? [])].sort();
    if (JSON.stringify(steps.at(-1)) !== JSON.stringify(groups)) steps.push(groups);
  }
  return steps;
}

async function groupNamed(vpcId: string, name: string): Promise<string> {
  const out = await world.aws.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }, { Name: "group-name", Values: [name] }] }));
  const id = out.SecurityGroups?.[0]?.GroupId;
  if (!id) throw new Error(`no group ${name} in ${vpcId}`);
  return id;
}

async function contain(lane: Awaited<ReturnType<typeof startLane>>, seeded: SeededInstance): Promise<void> {
  const detail = findingFor(seeded);
  await lane.send(detail);
  const r = await remediationForFinding(world.db, findingIdOf(detail));
  expect((await waitForStatus(world.db, r.id, FINISHED)).status).toBe("succeeded");
}

describe("isolating more instances of a VPC", () => {
  it("never puts a rule on the group an already contained instance is on, and moves each new interface original → transit → containment", async () => {
    const calls: SentCall[] = [];
    const lane = await startLane(world, { awsMiddleware: recordEc2(calls) });
    const vpc = await seedVpc(world.aws);
    const plain = { vpc, autoScaling: false, targetGroup: false };
    const a = await seed(world, plain);
    const b = await seed(world, plain);
    const c = await seed(world, plain);

    await contain(lane, a);
    const containmentId = await groupNamed(vpc.vpcId, "guardduty-responder-isolation");
    const transitId = await groupNamed(vpc.vpcId, TRANSIT_GROUP_NAME);
    const aEnis = [a.primaryEniId, a.secondaryEniId];
    const newEnis = [b.primaryEniId, b.secondaryEniId, c.primaryEniId, c.secondaryEniId];
    const callsBefore = calls.length;

    // B and C at once; the poller runs until both are contained.
    const both = Promise.all([contain(lane, b), contain(lane, c)]);
    const seen = await watch([...aEnis, ...newEnis], both);
    await both;
    await lane.stop();

    // The poller saw the whole of it, not one look at the end.
    expect(seen.length).toBeGreaterThan(1);
    // A's interfaces were only ever on the containment group, and it never had a rule.
    for (const o of seen) {
      for (const eniId of aEnis) expect(o.enis[eniId], `${eniId} at an observation`).toEqual([containmentId]);
      expect(o.groups[containmentId], "the containment group at an observation").toEqual({ ingress: 0, egress: 0 });
    }
    // No Authorize* call ever targeted it, from A's isolation on; the only calls that touched it
    // revoked its defaults, before anything was moved into it.
    const touching = calls.filter((c) => c.input["GroupId"] === containmentId);
    expect(touching.filter((c) => c.operation.startsWith("Authorize"))).toEqual([]);
    expect(new Set(touching.map((c) => c.operation))).toEqual(new Set(["RevokeSecurityGroupEgress"]));
    const firstMoveIn = calls.findIndex((c) => c.operation === "ModifyNetworkInterfaceAttribute" && JSON.stringify(c.input["Groups"]) === JSON.stringify([containmentId]));
    expect(Math.max(...touching.map((t) => calls.indexOf(t)))).toBeLessThan(firstMoveIn);
    // While B and C were contained, no rule was added or revoked anywhere, and no group created.
    const during = calls.slice(callsBefore);
    expect(during.filter((c) => /SecurityGroup/.test(c.operation))).toEqual([]);

    // B's and C's interfaces: the worker sent exactly transit, then containment, for each.
    for (const eniId of newEnis) {
      const moves = during.filter((c) => c.operation === "ModifyNetworkInterfaceAttribute" && c.input["NetworkInterfaceId"] === eniId).map((c) => c.input["Groups"]);
      expect(moves, eniId).toEqual([[transitId], [containmentId]]);
    }
    // And what moto showed agrees: each went original → (transit, if a look fell in between) →
    // containment, never back, never anywhere else.
    const original = (s: SeededInstance, eniId: string): string[] => [...(s.eniGroups[eniId] ?? [])].sort();
    for (const [s, eniId] of [b, c].flatMap((s) => [s.primaryEniId, s.secondaryEniId].map((id) => [s, id] as const))) {
      const went = path(seen, eniId);
      expect(went[0], `${eniId} first seen`).toEqual(original(s, eniId));
      expect(went.at(-1), `${eniId} last seen`).toEqual([containmentId]);
      expect([[transitId], [containmentId]], `${eniId} went ${JSON.stringify(went)}`).toEqual(expect.arrayContaining(went.slice(1)));
    }
  }, 120_000);
});
