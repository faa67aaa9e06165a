// The instances the worker benchmark works on, seeded in moto, and GuardDuty findings about them.
// Each instance is what test/support's seedInstance makes (two interfaces with two groups each,
// two volumes, its own Auto Scaling group), except that target groups are shared: a few per VPC,
// each with many targets, as in most fleets. One target group per instance would make identify
// describe every group of the VPC for every finding (see the report printed at the end).
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateSubnetCommand } from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { eventBridgeEvent, instanceFinding, setIn, type JsonObject } from "@gdr/samples/findings";
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
const INSTANCES_PER_SUBNET = 100;

export async function seedFleet(clients: SeedClients, o: FleetOptions): Promise<Fleet> {
  const started = performance.now();
  const vpcs: SeededVpc[] = [];
  for (let v = 0; v < o.vpcs; v++) vpcs.push(await seedVpc(clients));
  // A /24 holds 251 addresses and every instance takes two: a new subnet every 100 instances.
  const subnets = new Map<string, Promise<SeededVpc>>();
  const placeOf = (i: number): Promise<SeededVpc> => {
    const v = i % vpcs.length;
    const k = Math.floor(Math.floor(i / vpcs.length) / INSTANCES_PER_SUBNET);
    const vpc = vpcs[v];
    if (!vpc) throw new Error("no VPC to seed into");
    if (k === 0) return Promise.resolve(vpc);
    let place = subnets.get(`${v}/${k}`);
    if (!place) {
      place = clients.ec2
        .send(new CreateSubnetCommand({ VpcId: vpc.vpcId, CidrBlock: `10.0.${10 + k}.0/24`, AvailabilityZone: "us-east-1a" }))
        .then((out) => {
          if (!out.Subnet?.SubnetId) throw new Error("moto returned no subnet id");
          return { vpcId: vpc.vpcId, subnetIds: [out.Subnet.SubnetId, vpc.subnetIds[1]] };
        });
      subnets.set(`${v}/${k}`, place);
    }
    return place;
  };
  const instances: SeededInstance[] = new Array<SeededInstance>(o.instances);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < o.instances; i = next++) {
      instances[i] = await seedInstance(clients, { vpc: await placeOf(i), targetGroup: false });
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

/** A MOTO_AMIS_PATH file with one Amazon Linux AMI (moto marks every AMI it loads as owned by amazon). */
export async function oneAmiFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "gdr-bench-moto-"));
  const path = join(dir, "amis.json");
  const ami = {
    ami_id: "ami-0b1e0bec4000000a1",
    state: "available",
    public: true,
    owner_id: "137112412989",
    image_location: "amazon/al2023-ami-bench-x86_64",
    sriov: "simple",
    root_device_type: "ebs",
    root_device_name: "/dev/xvda",
    description: "Amazon Linux 2023 (the worker benchmark's only AMI)",
    image_type: "machine",
    platform: null,
    architecture: "x86_64",
    name: "al2023-ami-bench-x86_64",
    virtualization_type: "hvm",
    hypervisor: "xen",
  };
  await writeFile(path, JSON.stringify([ami]));
  return path;
}
