// Seeds, in moto, what the Instance playbook works on: a VPC with two subnets, an instance with
// two network interfaces (each with two security groups of its own), two EBS volumes that would
// be deleted on termination, an Auto Scaling group the instance belongs to and an application
// load balancer's target group it is registered in. Returns every id a test asserts on.
//
// moto notes: the Auto Scaling group is created empty (desired 0) from a launch template and the
// instance joins it through AttachInstances, which moto supports (desired capacity becomes 1).
// moto's DescribeInstanceAttribute does not return blockDeviceMapping, so DeleteOnTermination is
// read from DescribeInstances, as the playbook does.
import {
  AttachInstancesCommand,
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateLaunchTemplateCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";

export interface SeedClients {
  ec2: EC2Client;
  autoscaling: AutoScalingClient;
  elbv2: ElasticLoadBalancingV2Client;
}

export interface SeededVpc {
  vpcId: string;
  subnetIds: [string, string];
}

export interface SeededInstance {
  vpcId: string;
  subnetId: string;
  instanceId: string;
  /** Four groups: the first two on the primary interface, the last two on the second one. */
  securityGroupIds: string[];
  primaryEniId: string;
  secondaryEniId: string;
  /** Each interface's groups as seeded. */
  eniGroups: Record<string, string[]>;
  volumeIds: string[];
  autoScalingGroupName: string | null;
  targetGroupArn: string | null;
  targetPort: number;
}

export interface SeedInstanceOptions {
  /** Reuse a VPC (several instances in one VPC); a new one when not given. */
  vpc?: SeededVpc;
  /** In an Auto Scaling group (default true). */
  autoScaling?: boolean;
  /** Registered in a load balancer's target group (default true). */
  targetGroup?: boolean;
  tags?: Record<string, string>;
}

const TARGET_PORT = 8080;
let counter = 0;

function required<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`moto did not return ${what}`);
  return value;
}

export async function seedVpc(clients: SeedClients): Promise<SeededVpc> {
  const vpc = await clients.ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }));
  const vpcId = required(vpc.Vpc?.VpcId, "a VPC id");
  const subnet = async (cidr: string, zone: string): Promise<string> => {
    const out = await clients.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: zone }));
    return required(out.Subnet?.SubnetId, "a subnet id");
  };
  return { vpcId, subnetIds: [await subnet("10.0.1.0/24", "us-east-1a"), await subnet("10.0.2.0/24", "us-east-1b")] };
}

// moto lists ~1300 built-in images (almost a second per call) and keeps them across resets:
// one look-up per client is enough.
const images = new WeakMap<EC2Client, Promise<string>>();

function anyImage(ec2: EC2Client): Promise<string> {
  let image = images.get(ec2);
  if (!image) {
    image = ec2
      .send(new DescribeImagesCommand({ Owners: ["amazon"] }))
      .then((out) => required(out.Images?.[0]?.ImageId, "an AMI"));
    images.set(ec2, image);
  }
  return image;
}

export async function seedInstance(clients: SeedClients, options: SeedInstanceOptions = {}): Promise<SeededInstance> {
  const n = ++counter;
  const vpc = options.vpc ?? (await seedVpc(clients));
  const subnetId = vpc.subnetIds[0];
  const securityGroupIds: string[] = [];
  for (const letter of ["a", "b", "c", "d"]) {
    const out = await clients.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: `app-${n}-${letter}`, Description: `app ${letter}`, VpcId: vpc.vpcId }),
    );
    securityGroupIds.push(required(out.GroupId, "a security group id"));
  }
  const [a, b, c, d] = securityGroupIds as [string, string, string, string];
  const imageId = await anyImage(clients.ec2);
  const tags = Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));

  const run = await clients.ec2.send(
    new RunInstancesCommand({
      ImageId: imageId,
      InstanceType: "t3.micro",
      MinCount: 1,
      MaxCount: 1,
      InstanceInitiatedShutdownBehavior: "terminate",
      NetworkInterfaces: [
        { DeviceIndex: 0, SubnetId: subnetId, Groups: [a, b] },
        { DeviceIndex: 1, SubnetId: subnetId, Groups: [c, d] },
      ],
      BlockDeviceMappings: [
        { DeviceName: "/dev/sda1", Ebs: { VolumeSize: 8, DeleteOnTermination: true } },
        { DeviceName: "/dev/sdf", Ebs: { VolumeSize: 4, DeleteOnTermination: true } },
      ],
      ...(tags.length > 0 ? { TagSpecifications: [{ ResourceType: "instance", Tags: tags }] } : {}),
    }),
  );
  const instance = required(run.Instances?.[0], "an instance");
  const instanceId = required(instance.InstanceId, "an instance id");
  const enis = [...(instance.NetworkInterfaces ?? [])].sort(
    (x, y) => (x.Attachment?.DeviceIndex ?? 0) - (y.Attachment?.DeviceIndex ?? 0),
  );
  const primaryEniId = required(enis[0]?.NetworkInterfaceId, "the primary interface");
  const secondaryEniId = required(enis[1]?.NetworkInterfaceId, "the second interface");
  const volumeIds = (instance.BlockDeviceMappings ?? []).map((m) => required(m.Ebs?.VolumeId, "a volume id"));

  let autoScalingGroupName: string | null = null;
  if (options.autoScaling ?? true) {
    autoScalingGroupName = `asg-${n}`;
    await clients.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: `lt-${n}`,
        LaunchTemplateData: { ImageId: imageId, InstanceType: "t3.micro" },
      }),
    );
    await clients.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: autoScalingGroupName,
        LaunchTemplate: { LaunchTemplateName: `lt-${n}`, Version: "$Latest" },
        MinSize: 0,
        MaxSize: 3,
        DesiredCapacity: 0,
        VPCZoneIdentifier: subnetId,
      }),
    );
    await clients.autoscaling.send(
      new AttachInstancesCommand({ AutoScalingGroupName: autoScalingGroupName, InstanceIds: [instanceId] }),
    );
  }

  let targetGroupArn: string | null = null;
  if (options.targetGroup ?? true) {
    const group = await clients.elbv2.send(
      new CreateTargetGroupCommand({
        Name: `tg-${n}`,
        Protocol: "HTTP",
        Port: 80,
        VpcId: vpc.vpcId,
        TargetType: "instance",
      }),
    );
    targetGroupArn = required(group.TargetGroups?.[0]?.TargetGroupArn, "a target group ARN");
    const lb = await clients.elbv2.send(
      new CreateLoadBalancerCommand({ Name: `alb-${n}`, Subnets: vpc.subnetIds, Type: "application" }),
    );
    await clients.elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: required(lb.LoadBalancers?.[0]?.LoadBalancerArn, "a load balancer ARN"),
        Protocol: "HTTP",
        Port: 80,
        DefaultActions: [{ Type: "forward", TargetGroupArn: targetGroupArn }],
      }),
    );
    await clients.elbv2.send(
      new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId, Port: TARGET_PORT }] }),
    );
  }

  return {
    vpcId: vpc.vpcId,
    subnetId,
    instanceId,
    securityGroupIds,
    primaryEniId,
    secondaryEniId,
    eniGroups: { [primaryEniId]: [a, b], [secondaryEniId]: [c, d] },
    volumeIds,
    autoScalingGroupName,
    targetGroupArn,
    targetPort: TARGET_PORT,
  };
}
