// The instances the worker benchmark works on, seeded in moto, and GuardDuty findings about them.
// Each instance is what test/support's seedInstance makes (two interfaces with two groups each,
// two volumes, its own Auto Scaling group), except that target groups are shared: a few per VPC,
// each with many targets, as in most fleets. One target group per instance would make identify
// describe every group of the VPC for every finding (see the report printed at the end).
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { eventBridgeEvent, instanceFinding, setIn, type JsonObject } from "@gdr/core/findings/fixtures";
import { seedInstance, seedVpc, type SeedClients, type SeededInstance, type SeededVpc } from "../../test/support/index.js";

export interface FleetOptions {
  instances: number;
  vpcs: number;
  targetGroupsPerVpc: number;
  /** SDK calls in flight while seeding (moto handles requests on threads). */
  parallel?: number;
  /** Unique per fleet: load balancer and target group names are unique per account. */
  label: string;
}

export interface Fleet {
  instances: SeededInstance[];
  vpcs: SeededVpc[];
  targetGroups: number;
  seedMs: number;
}

const TARGET_PORT = 8080;

export async function seedFleet(clients: SeedClients, o: FleetOptions): Promise<Fleet> {
  const started = performance.now();
  const vpcs: SeededVpc[] = [];
  for (let v = 0; v < o.vpcs; v++) vpcs.push(await seedVpc(clients));
  const instances: SeededInstance[] = new Array<SeededInstance>(o.instances);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < o.instances; i = next++) {
      const vpc = vpcs[i % vpcs.length];
      if (!vpc) throw new Error("no VPC to seed into");
      instances[i] = await seedInstance(clients, { vpc, targetGroup: false });
    }
  };
  await Promise.all(Array.from({ length: o.parallel ?? 6 }, lane));

  let targetGroups = 0;
  for (const [v, vpc] of vpcs.entries()) {
    const members = instances.filter((inst) => inst.vpcId === vpc.vpcId);
    for (let g = 0; g < o.targetGroupsPerVpc; g++) {
      const arn = await sharedTargetGroup(clients, vpc, `${o.label}-${v}-${g}`);
      targetGroups++;
      const targets = members.filter((_, i) => i % o.targetGroupsPerVpc === g).map((inst) => ({ Id: inst.instanceId, Port: TARGET_PORT }));
      for (let i = 0; i < targets.length; i += 50) {
        await clients.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: targets.slice(i, i + 50) }));
      }
    }
  }
  return { instances, vpcs, targetGroups, seedMs: performance.now() - started };
}

async function sharedTargetGroup(clients: SeedClients, vpc: SeededVpc, name: string): Promise<string> {
  const group = await clients.elbv2.send(
    new CreateTargetGroupCommand({ Name: `tg-${name}`, Protocol: "HTTP", Port: 80, VpcId: vpc.vpcId, TargetType: "instance" }),
  );
  const arn = group.TargetGroups?.[0]?.TargetGroupArn;
  if (!arn) throw new Error("moto returned no target group ARN");
  const lb = await clients.elbv2.send(new CreateLoadBalancerCommand({ Name: `alb-${name}`, Subnets: vpc.subnetIds, Type: "application" }));
  const lbArn = lb.LoadBalancers?.[0]?.LoadBalancerArn;
  if (!lbArn) throw new Error("moto returned no load balancer ARN");
  await clients.elbv2.send(
    new CreateListenerCommand({ LoadBalancerArn: lbArn, Protocol: "HTTP", Port: 80, DefaultActions: [{ Type: "forward", TargetGroupArn: arn }] }),
  );
  return arn;
}

/**
 * A high-severity Runtime Monitoring finding (severity 8: the default policy routes it to the
 * Instance playbook in auto mode) on an instance moto holds, with its real interfaces and groups.
 */
export function findingOn(instance: SeededInstance, accountId: string): JsonObject {
  const enis = Object.entries(instance.eniGroups);
  const detail = instanceFinding({ accountId, instanceId: instance.instanceId, eniCount: enis.length, severity: 8 });
  setIn(
    detail,
    ["resource", "instanceDetails", "networkInterfaces"],
    enis.map(([networkInterfaceId, groups], i) => ({
      networkInterfaceId,
      privateIpAddress: `10.0.1.${10 + i}`,
      subnetId: instance.subnetId,
      vpcId: instance.vpcId,
      securityGroups: groups.map((groupId) => ({ groupId, groupName: groupId })),
    })),
  );
  return detail;
}

export function findingMessage(instance: SeededInstance, accountId: string): { findingId: string; body: string } {
  const detail = findingOn(instance, accountId);
  const findingId = detail["id"];
  if (typeof findingId !== "string") throw new Error("fixture finding has no id");
  return { findingId, body: JSON.stringify(eventBridgeEvent(detail)) };
}
