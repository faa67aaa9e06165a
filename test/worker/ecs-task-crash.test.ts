// A worker process killed (SIGKILL) in the middle of the ECS task playbook, then another one
// resuming it. The first worker talks to moto through a proxy that holds one chosen request and
// is killed while it is held, so that request never reaches moto; the second worker talks through
// a proxy that holds nothing and counts. A standalone Fargate task (no scale-in protection call:
// moto does not implement it, and a child process cannot carry the test's fake).
//
// Kill points: mid-isolate with the task ENI on the transit group (its move to containment
// held), and in the evidence job before the task is tagged. Afterwards: the ENI on the VPC's
// containment group only, each create-once call reached moto once over both processes, the steps
// finished before the kill were not run again, and stopping the task still waits for a person.
import { DescribeSecurityGroupsCommand } from "@aws-sdk/client-ec2";
import type { ECSClient } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsProxy, type AwsProxy } from "../support/index.js";
import { ecsClient, findingForTask, pinTaskLifecycle, runTask, seedCluster, seedTaskNetwork, viewTask, type EcsSeedClients } from "../support/seed/ecs.js";
import {
  createEngineWorld,
  findingIdOf,
  holdNth,
  remediationForFinding,
  spawnWorker,
  startLane,
  stepsOf,
  waitForStatus,
  type EngineWorld,
  type Held,
  type WorkerProcess,
} from "./engine-harness.js";

const CRASH_ENV = { WORKER_JOB_LOCK_MS: "2000", WORKER_LOCK_TTL_MS: "1000" };
const STEPS = ["identify", "protect-task", "leave-load-balancers", "isolate", "tag", "snapshot-host-volumes", "verify", "stop-task"];

interface KillPoint {
  name: string;
  /** The step running at the kill, resumed by the second worker. */
  resumed: string;
  hold(proxy: AwsProxy): Promise<Held>;
}

const POINTS: KillPoint[] = [
  { name: "mid-isolate, the task ENI on the transit group", resumed: "isolate", hold: (p) => holdNth(p, "ModifyNetworkInterfaceAttribute", 2) },
  { name: "after isolate, before the tag", resumed: "tag", hold: (p) => holdNth(p, "TagResource", 1) },
];

let world: EngineWorld;
let ecs: ECSClient;
let clients: EcsSeedClients;

beforeAll(async () => {
  world = await createEngineWorld();
  ecs = ecsClient(world.moto.endpoint);
  clients = { ...world.aws, ecs };
  await pinTaskLifecycle(world.moto.endpoint);
});

afterAll(async () => {
  ecs.destroy();
  await world.close();
});

describe("a worker killed mid-playbook", () => {
  for (const point of POINTS) {
    it(`${point.name}: the next worker resumes ${point.resumed} and contains the task once`, async () => {
      const lane = await startLane(world, { worker: false });
      const first = await startAwsProxy(world.moto.endpoint);
      const second = await startAwsProxy(world.moto.endpoint);
      const workers: WorkerProcess[] = [];
      try {
        const cluster = await seedCluster(clients);
        const network = await seedTaskNetwork(clients);
        const task = await runTask(clients, { cluster, network, image: "nginx:1.27" });
        const holding = point.hold(first);
        const a = await spawnWorker(lane.workerEnv(first.endpoint, CRASH_ENV));
        workers.push(a);
        const detail = findingForTask(task);
        await lane.send(detail);
        const r = await remediationForFinding(world.db, findingIdOf(detail));
        await holding;
        const atKill = await stepsOf(world.db, r.id);
        if (point.resumed === "isolate") {
          // The dead worker left the ENI on the transit group (the all-traffic egress one).
          const transit = await world.aws.ec2.send(
            new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [network.vpcId] }, { Name: "group-name", Values: ["guardduty-responder-transit"] }] }),
          );
          expect((await viewTask(clients, task)).eniGroups).toEqual([transit.SecurityGroups?.[0]?.GroupId]);
        }
        await a.kill();
        const resumedIndex = STEPS.indexOf(point.resumed);
        expect(atKill.map((s) => s.name)).toEqual(STEPS.slice(0, resumedIndex + 1));
        expect(atKill.at(-1)).toMatchObject({ name: point.resumed, status: "running", attempts: 1 });

        const b = await spawnWorker(lane.workerEnv(second.endpoint, CRASH_ENV));
        workers.push(b);
        const done = await waitForStatus(world.db, r.id, ["awaiting_approval", "failed", "succeeded", "escalated"], 400);
        expect(done.status, done.error ?? "").toBe("awaiting_approval");

        // AWS: the ENI on the containment group only; the task still runs (stopping waits).
        const groups = await world.aws.ec2.send(
          new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [network.vpcId] }, { Name: "group-name", Values: ["guardduty-responder-isolation"] }] }),
        );
        const containment = groups.SecurityGroups?.[0]?.GroupId;
        expect(await viewTask(clients, task)).toMatchObject({ lastStatus: "RUNNING", eniGroups: [containment] });
        // Each create-once call reached moto once over both processes (the held one never did).
        const reached = (operation: string): number => first.count(operation) - (operation === "ModifyNetworkInterfaceAttribute" && point.resumed === "isolate" ? 1 : 0) + second.count(operation);
        expect(reached("CreateSecurityGroup"), "CreateSecurityGroup calls that reached moto").toBe(2);
        expect(reached("ModifyNetworkInterfaceAttribute"), "ENI moves that reached moto").toBe(2);

        // Postgres: the steps finished before the kill were not run again; the resumed one ran twice.
        const steps = await stepsOf(world.db, r.id);
        expect(steps.map((s) => s.name)).toEqual(STEPS);
        for (const before of atKill.slice(0, -1)) expect(steps.find((s) => s.name === before.name)?.attempts, before.name).toBe(1);
        expect(steps[resumedIndex]).toMatchObject({ attempts: 2, status: "succeeded" });
        expect(steps.at(-1)?.status).toBe("awaiting_approval");
      } finally {
        for (const w of workers) await w.kill();
        await Promise.allSettled([first.close(), second.close()]);
        await lane.stop();
      }
    });
  }
});
