// A real worker process killed (SIGKILL) with an interface on its VPC's transit group: the
// interface had been moved original → transit, and the move on to containment never reached AWS.
// The transit group carries all-traffic egress, so the interface must not stay there:
// - the re-run (another process resumes the remediation) finds it on transit and moves it on;
// - when nobody resumes it (an operator failed the remediation), a live worker's sweep, wired in
//   the worker service, moves it on to the containment group its mark names.
//
// How the kill lands: the first worker talks to AWS through a proxy that holds its second
// ModifyNetworkInterfaceAttribute (the primary interface's transit → containment); once that
// request is held, the process is killed.
import { DescribeNetworkInterfacesCommand, DescribeSecurityGroupsCommand, type SecurityGroup } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsProxy, waitUntil } from "../support/index.js";
import {
  createEngineWorld,
  findingFor,
  findingIdOf,
  holdNth,
  remediationForFinding,
  seed,
  spawnWorker,
  startLane,
  waitForStatus,
  type EngineWorld,
} from "./engine-harness.js";

/** A dead worker's locks expire within this long. */
const CRASH_ENV = { WORKER_JOB_LOCK_MS: "2000", WORKER_LOCK_TTL_MS: "1000" };
const ENTERED = "isolation.transit_entered";
const LEFT = "isolation.transit_left";

let world: EngineWorld;

beforeAll(async () => {
  world = await createEngineWorld();
});

afterAll(async () => {
  await world.close();
});

async function groupOfRole(vpcId: string, role: string): Promise<SecurityGroup | undefined> {
  const out = await world.aws.ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }, { Name: "tag:guardduty-responder:role", Values: [role] }] }),
  );
  return out.SecurityGroups?.[0];
}

async function groupsOf(eniId: string): Promise<string[]> {
  const out = await world.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }));
  return (out.NetworkInterfaces?.[0]?.Groups ?? []).map((g) => g.GroupId ?? "");
}

async function marks(eniId: string): Promise<{ action: string; to: string | null; actor: string }[]> {
  const { rows } = await world.db.pool.query<{ action: string; to: string | null; actor: string }>(
    "SELECT action, detail->>'to' AS to, actor FROM audit_events WHERE action IN ($1, $2) AND detail->>'eniId' = $3 ORDER BY id",
    [ENTERED, LEFT, eniId],
  );
  return rows;
}

/**
 * Runs a worker until it holds the primary interface's move to containment, and kills it there.
 * Returns what the kill left: the interface on the transit group, its mark open.
 */
async function killOnTransit(lane: Awaited<ReturnType<typeof startLane>>): Promise<{
  seeded: Awaited<ReturnType<typeof seed>>;
  remediationId: string;
  transitId: string;
  containmentId: string;
}> {
  const proxy = await startAwsProxy(world.moto.endpoint);
  try {
    const seeded = await seed(world, { autoScaling: false, targetGroup: false });
    const holding = holdNth(proxy, "ModifyNetworkInterfaceAttribute", 2);
    const dying = await spawnWorker(lane.workerEnv(proxy.endpoint, CRASH_ENV));
    const detail = findingFor(seeded);
    await lane.send(detail);
    const r = await remediationForFinding(world.db, findingIdOf(detail));
    const held = await holding;
    expect(held.request.operation).toBe("ModifyNetworkInterfaceAttribute");
    await dying.kill();

    const transitId = (await groupOfRole(seeded.vpcId, "isolation-transit"))?.GroupId ?? "";
    const containmentId = (await groupOfRole(seeded.vpcId, "isolation"))?.GroupId ?? "";
    expect(transitId).toMatch(/^sg-/);
    expect(await groupsOf(seeded.primaryEniId)).toEqual([transitId]);
    expect((await groupOfRole(seeded.vpcId, "isolation-transit"))?.IpPermissionsEgress).toEqual([
      expect.objectContaining({ IpProtocol: "-1", IpRanges: [expect.objectContaining({ CidrIp: "0.0.0.0/0" })] }),
    ]);
    expect((await marks(seeded.primaryEniId)).map((m) => m.action)).toEqual([ENTERED]);
    return { seeded, remediationId: r.id, transitId, containmentId };
  } finally {
    await proxy.close();
  }
}

describe("a worker killed with an interface on the transit group", () => {
  it("the re-run in another process finds it on transit and moves it on to containment", async () => {
    const lane = await startLane(world, { worker: false });
    try {
      const { seeded, remediationId, containmentId } = await killOnTransit(lane);
      // No sweep in this worker during the test (an hour apart): the move is the re-run's.
      await lane.restartWorker({ ...CRASH_ENV, WORKER_EGRESS_SWEEP_MS: "3600000" });
      expect((await waitForStatus(world.db, remediationId, ["succeeded", "failed", "skipped"], 400)).status).toBe("succeeded");

      expect(await groupsOf(seeded.primaryEniId)).toEqual([containmentId]);
      expect(await groupsOf(seeded.secondaryEniId)).toEqual([containmentId]);
      expect((await groupOfRole(seeded.vpcId, "isolation"))?.IpPermissionsEgress).toEqual([]);
      expect((await marks(seeded.primaryEniId)).map((m) => [m.action, m.to, m.actor])).toEqual([
        [ENTERED, null, "worker"],
        [LEFT, "containment", "worker"],
      ]);
    } finally {
      await lane.stop();
    }
  });

  it("when nobody resumes it, a live worker's sweep moves it on to containment with no further isolation in that VPC", async () => {
    const lane = await startLane(world, { worker: false });
    try {
      const { seeded, remediationId, containmentId } = await killOnTransit(lane);
      // Nobody resumes it (e.g. an operator failed it): no isolation in that VPC ever runs again.
      await world.db.pool.query("UPDATE remediations SET status = 'failed', error = 'test: never resumed' WHERE id = $1::uuid", [remediationId]);

      await lane.restartWorker({ ...CRASH_ENV, WORKER_EGRESS_SWEEP_MS: "1000" });
      await waitUntil(async () => (await marks(seeded.primaryEniId)).length === 2, { attempts: 150, what: "the transit mark closed" });

      expect(await groupsOf(seeded.primaryEniId)).toEqual([containmentId]);
      expect((await groupOfRole(seeded.vpcId, "isolation"))?.IpPermissionsEgress).toEqual([]);
      expect((await marks(seeded.primaryEniId)).map((m) => [m.action, m.to, m.actor])).toEqual([
        [ENTERED, null, "worker"],
        [LEFT, "containment", "worker:egress-sweep"],
      ]);
    } finally {
      await lane.stop();
    }
  });
});
