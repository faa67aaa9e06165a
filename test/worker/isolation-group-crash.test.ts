// A real worker process killed (SIGKILL) between authorising the isolation group's temporary
// all-traffic egress rule and revoking it, whose remediation is then never resumed (it was
// failed: nothing is in flight any more, and no isolation happens in that VPC again). Another
// worker's egress sweep, wired in the worker service, must revoke the rule; without it every
// instance isolated in that VPC keeps outbound access for good.
//
// How the kill lands: the first worker talks to AWS through a proxy that holds its second
// ModifyNetworkInterfaceAttribute (one interface already in the group, the rule on it); once that
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
  type EngineWorld,
} from "./engine-harness.js";

/** A dead worker's locks expire within this long; the sweep looks every second. */
const CRASH_ENV = { WORKER_JOB_LOCK_MS: "2000", WORKER_LOCK_TTL_MS: "1000" };

let world: EngineWorld;

beforeAll(async () => {
  world = await createEngineWorld();
});

afterAll(async () => {
  await world.close();
});

async function serviceGroup(vpcId: string): Promise<SecurityGroup | undefined> {
  const out = await world.aws.ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }, { Name: "tag:guardduty-responder:role", Values: ["isolation"] }] }),
  );
  return out.SecurityGroups?.[0];
}

async function egressRecords(vpcId: string): Promise<{ action: string; by: string | null }[]> {
  const { rows } = await world.db.pool.query<{ action: string; by: string | null }>(
    "SELECT action, detail->>'by' AS by FROM audit_events WHERE action LIKE 'isolation.egress_%' AND detail->>'vpcId' = $1 ORDER BY id",
    [vpcId],
  );
  return rows;
}

describe("a worker killed holding the isolation group's temporary egress rule", () => {
  it("leaves no egress rule on the group once nothing is in flight: a live worker's sweep revokes it with no further isolation in that VPC", async () => {
    const lane = await startLane(world, { worker: false });
    const proxy = await startAwsProxy(world.moto.endpoint);
    try {
      const seeded = await seed(world);
      const holding = holdNth(proxy, "ModifyNetworkInterfaceAttribute", 2);
      const dying = await spawnWorker(lane.workerEnv(proxy.endpoint, CRASH_ENV));
      const detail = findingFor(seeded);
      await lane.send(detail);
      const r = await remediationForFinding(world.db, findingIdOf(detail));
      await holding;
      await dying.kill();

      // What the kill left: the rule on the group one interface is already in, the record open.
      const group = await serviceGroup(seeded.vpcId);
      expect(group?.IpPermissionsEgress).toEqual([expect.objectContaining({ IpProtocol: "-1", IpRanges: [expect.objectContaining({ CidrIp: "0.0.0.0/0" })] })]);
      const enis = await world.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [seeded.primaryEniId] }));
      expect(enis.NetworkInterfaces?.[0]?.Groups?.map((g) => g.GroupId)).toEqual([group?.GroupId]);
      expect(await egressRecords(seeded.vpcId)).toEqual([{ action: "isolation.egress_opened", by: null }]);

      // Nobody resumes it (e.g. an operator failed it): no isolation in that VPC ever runs again.
      await world.db.pool.query("UPDATE remediations SET status = 'failed', error = 'test: never resumed' WHERE id = $1::uuid", [r.id]);

      await lane.restartWorker({ ...CRASH_ENV, WORKER_EGRESS_SWEEP_MS: "1000" });
      await waitUntil(async () => (await egressRecords(seeded.vpcId)).length === 2, { attempts: 150, what: "the egress record closed" });

      expect((await serviceGroup(seeded.vpcId))?.IpPermissionsEgress).toEqual([]);
      expect(await egressRecords(seeded.vpcId)).toEqual([
        { action: "isolation.egress_opened", by: null },
        { action: "isolation.egress_closed", by: "sweep" },
      ]);
    } finally {
      await lane.stop();
      await proxy.close();
    }
  });
});
