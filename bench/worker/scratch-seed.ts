import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { EC2Client, RunInstancesCommand, DescribeImagesCommand, DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { awsTestEnv, seedInstance, seedVpc, startMoto } from "../../test/support/index.js";

const moto = await startMoto();
try {
  const aws = awsTestEnv(moto.endpoint);
  const clients = { ec2: new EC2Client(aws), autoscaling: new AutoScalingClient(aws), elbv2: new ElasticLoadBalancingV2Client(aws) };
  let t = performance.now();
  const vpc = await seedVpc(clients);
  await seedInstance(clients, { vpc });
  console.log("first (incl AMI lookup)", performance.now() - t);
  t = performance.now();
  for (let i = 0; i < 5; i++) await seedInstance(clients, { vpc });
  console.log("5 full sequential", (performance.now() - t) / 5);
  t = performance.now();
  await Promise.all(Array.from({ length: 8 }, () => seedInstance(clients, { vpc })));
  console.log("8 full parallel, per instance", (performance.now() - t) / 8);
  t = performance.now();
  await Promise.all(Array.from({ length: 8 }, () => seedInstance(clients, { vpc, autoScaling: false, targetGroup: false })));
  console.log("8 bare parallel, per instance", (performance.now() - t) / 8);
  const img = (await clients.ec2.send(new DescribeImagesCommand({ Owners: ["amazon"] }))).Images?.[0]?.ImageId;
  t = performance.now();
  const run = await clients.ec2.send(new RunInstancesCommand({ ImageId: img, InstanceType: "t3.micro", MinCount: 20, MaxCount: 20,
    NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: vpc.subnetIds[0] }, { DeviceIndex: 1, SubnetId: vpc.subnetIds[0] }] }));
  console.log("RunInstances x20", performance.now() - t, run.Instances?.length, run.Instances?.[0]?.NetworkInterfaces?.length, run.Instances?.[5]?.NetworkInterfaces?.map(n=>n.NetworkInterfaceId));
  t = performance.now();
  await clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [run.Instances?.[3]?.InstanceId ?? ""] }));
  console.log("DescribeInstances one", performance.now() - t);
} finally { await moto.stop(); }
