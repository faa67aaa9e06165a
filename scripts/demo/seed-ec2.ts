import {
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  type EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";

/** An instance as the demo's findings describe it: ids exactly as moto holds them. */
export interface SeededInstance {
  instanceId: string;
  vpcId: string;
  subnetId: string;
  imageId: string;
  networkInterfaces: { networkInterfaceId: string; securityGroupIds: string[]; privateIpAddress: string }[];
  tags: { key: string; value: string }[];
}

// moto ships this AMI id in its default image list for us-east-1.
const DEMO_AMI = "ami-12c6146b";

/**
 * A small compromised-looking fleet in moto: one VPC, a subnet, four security groups, and
 * instances with two network interfaces each (the primary one with two groups, a second with two
 * others). `exempt` instances carry the exemption tag.
 */
export async function seedInstances(ec2: EC2Client, options: { count: number; exempt?: number }): Promise<SeededInstance[]> {
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.42.0.0/16" }));
  const vpcId = required(vpc.Vpc?.VpcId, "VpcId");
  const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.42.1.0/24", AvailabilityZone: "us-east-1a" }));
  const subnetId = required(subnet.Subnet?.SubnetId, "SubnetId");
  const groups: string[] = [];
  for (const name of ["web", "app", "admin-ssh", "monitoring"]) {
    const sg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: `demo-${name}`, Description: `demo ${name}`, VpcId: vpcId }));
    groups.push(required(sg.GroupId, "GroupId"));
  }
  const [web, app, ssh, mon] = groups as [string, string, string, string];

  const seeded: SeededInstance[] = [];
  for (let i = 0; i < options.count; i++) {
    const exempt = i < (options.exempt ?? 0);
    const tags = [
      { key: "Name", value: `demo-web-${i + 1}` },
      { key: "team", value: "payments" },
      ...(exempt ? [{ key: "guardduty-remediation", value: "exempt" }] : []),
    ];
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: DEMO_AMI,
        InstanceType: "t3.micro",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnetId,
        SecurityGroupIds: [web, app],
        TagSpecifications: [{ ResourceType: "instance", Tags: tags.map((t) => ({ Key: t.key, Value: t.value })) }],
      }),
    );
    const instance = run.Instances?.[0];
    const instanceId = required(instance?.InstanceId, "InstanceId");
    const primary = instance?.NetworkInterfaces?.[0];
    const eni = await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Groups: [ssh, mon] }));
    const secondId = required(eni.NetworkInterface?.NetworkInterfaceId, "NetworkInterfaceId");
    await ec2.send(new AttachNetworkInterfaceCommand({ InstanceId: instanceId, NetworkInterfaceId: secondId, DeviceIndex: 1 }));
    seeded.push({
      instanceId,
      vpcId,
      subnetId,
      imageId: DEMO_AMI,
      tags,
      networkInterfaces: [
        {
          networkInterfaceId: required(primary?.NetworkInterfaceId, "primary NetworkInterfaceId"),
          securityGroupIds: [web, app],
          privateIpAddress: primary?.PrivateIpAddress ?? "10.42.1.10",
        },
        { networkInterfaceId: secondId, securityGroupIds: [ssh, mon], privateIpAddress: eni.NetworkInterface?.PrivateIpAddress ?? "10.42.1.11" },
      ],
    });
  }
  return seeded;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`moto returned no ${what}`);
  return value;
}
