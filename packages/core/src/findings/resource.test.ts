import { describe, expect, it } from "vitest";
import {
  accessKeyFinding,
  containerFinding,
  deleteIn,
  ecsFinding,
  eksFinding,
  instanceFinding,
  s3Finding,
  setIn,
  type JsonObject,
} from "@gdr/samples/findings";
import { resourceKeyOf } from "./resource.js";
import type { FindingResource, ParsedFinding } from "./types.js";
import { expectFinding, expectRejected, parseDetail } from "@gdr/samples/parse-helpers";

function resourceOf<T extends FindingResource["type"]>(f: ParsedFinding, type: T): Extract<FindingResource, { type: T }> {
  expect(f.resource.type).toBe(type);
  return f.resource as Extract<FindingResource, { type: T }>;
}

const RUNTIME_TYPES = [
  "Execution:Runtime/NewBinaryExecuted",
  "CryptoCurrency:Runtime/BitcoinTool.B!DNS",
  "Backdoor:Runtime/C&CActivity.B!DNS",
  "Execution:Runtime/ReverseShell",
  "PrivilegeEscalation:Runtime/ContainerMountsHostDirectory",
];

describe("Instance", () => {
  it("maps instanceDetails: instance, ENIs with their security groups, VPC, subnet, AMI, tags", () => {
    const detail = instanceFinding({ seed: "instance-map", eniCount: 2, tags: [{ key: "Owner", value: "team-a" }] });
    const f = expectFinding(parseDetail(detail));
    const r = resourceOf(f, "Instance");
    expect(r.instanceId).toMatch(/^i-[0-9a-f]{17}$/);
    expect(f.resourceKey).toBe(r.instanceId);
    expect(r.networkInterfaces).toHaveLength(2);
    for (const eni of r.networkInterfaces) {
      expect(eni.networkInterfaceId).toMatch(/^eni-/);
      expect(eni.securityGroupIds).toHaveLength(2);
    }
    expect(r.vpcId).toMatch(/^vpc-/);
    expect(r.subnetId).toMatch(/^subnet-/);
    expect(r.imageId).toMatch(/^ami-/);
    expect(f.tags).toEqual([{ key: "Owner", value: "team-a" }]);
  });

  it.each(RUNTIME_TYPES)("parses the Runtime Monitoring type %s on an instance", (type) => {
    expect(expectFinding(parseDetail(instanceFinding({ type }))).type).toBe(type);
  });

  it("accepts 8-hex-digit ids of older resources", () => {
    const detail = instanceFinding({ instanceId: "i-99999999" });
    expect(expectFinding(parseDetail(detail)).resourceKey).toBe("i-99999999");
  });

  it.each([
    ["Cyrillic і", "і-0123456789abcdef0"],
    ["fullwidth digits", "i-０１２３４５６７８９abcdef0"],
    ["uppercase hex", "i-0123456789ABCDEF0"],
    ["a trailing newline", "i-0123456789abcdef0\n"],
    ["a wrong length", "i-0123456789abcdef"],
    ["shell metacharacters", "i-01234567;reboot"],
  ])("rejects an instance id with %s", (_label, instanceId) => {
    const message = expectRejected(parseDetail(instanceFinding({ instanceId })), "invalid_identifier");
    expect(message).toContain("detail.resource.instanceDetails.instanceId");
  });

  it("rejects an Instance finding without an instance id", () => {
    const detail = deleteIn(instanceFinding(), ["resource", "instanceDetails", "instanceId"]);
    expect(expectRejected(parseDetail(detail), "invalid_finding")).toContain("instanceId");
    expectRejected(parseDetail(deleteIn(instanceFinding(), ["resource", "instanceDetails"])), "invalid_finding");
  });

  it("rejects an invalid ENI id inside the array, naming its index", () => {
    const detail = instanceFinding({ eniCount: 3 });
    setIn(detail, ["resource", "instanceDetails", "networkInterfaces", 2, "networkInterfaceId"], "eni-zzzzzzzz");
    expect(expectRejected(parseDetail(detail), "invalid_identifier")).toContain("networkInterfaces[2].networkInterfaceId");
  });

  it("rejects an invalid security group id inside the nested array, naming both indexes", () => {
    const detail = instanceFinding({ eniCount: 2 });
    setIn(detail, ["resource", "instanceDetails", "networkInterfaces", 1, "securityGroups", 1, "groupId"], "sg-1234567g");
    expect(expectRejected(parseDetail(detail), "invalid_identifier")).toContain(
      "networkInterfaces[1].securityGroups[1].groupId",
    );
  });

  it("rejects invalid VPC, subnet and AMI ids", () => {
    const eni = ["resource", "instanceDetails", "networkInterfaces", 0];
    expectRejected(parseDetail(setIn(instanceFinding(), [...eni, "vpcId"], "vpc-XYZ")), "invalid_identifier");
    expectRejected(parseDetail(setIn(instanceFinding(), [...eni, "subnetId"], "subnet-1")), "invalid_identifier");
    expectRejected(parseDetail(setIn(instanceFinding(), ["resource", "instanceDetails", "imageId"], "ami-ｘ")), "invalid_identifier");
  });

  it("recognises an EKS node from its cluster tag, and ignores a tag value that is not a cluster name", () => {
    const node = expectFinding(parseDetail(instanceFinding({ tags: [{ key: "eks:cluster-name", value: "prod-eks" }] })));
    expect(resourceOf(node, "Instance").eksClusterName).toBe("prod-eks");
    const odd = expectFinding(parseDetail(instanceFinding({ tags: [{ key: "eks:cluster-name", value: "prod eks!" }] })));
    expect(resourceOf(odd, "Instance")).not.toHaveProperty("eksClusterName");
  });
});

describe("EKSCluster", () => {
  it("maps a pod-level Runtime Monitoring finding: cluster, namespace, pod, node, containers", () => {
    const f = expectFinding(parseDetail(eksFinding({ clusterName: "prod-eks", namespace: "shop", podName: "web-abc12" })));
    const r = resourceOf(f, "EKSCluster");
    expect(r).toMatchObject({
      clusterName: "prod-eks",
      clusterArn: "arn:aws:eks:us-east-1:111122223333:cluster/prod-eks",
      namespace: "shop",
      podName: "web-abc12",
      workloadKind: "pods",
    });
    expect(r.podUid).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.nodeInstanceId).toMatch(/^i-/);
    expect(r.containers[0]?.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.containers[0]?.containerId).toMatch(/^[0-9a-f]{64}$/);
    expect(f.resourceKey).toBe("prod-eks/shop/web-abc12");
    expect(f.tags).toContainEqual({ key: "team", value: "platform" });
  });

  it("keys a cluster-level finding (no pod) by the cluster name", () => {
    const f = expectFinding(parseDetail(eksFinding({ clusterName: "prod-eks", withPod: false })));
    expect(resourceOf(f, "EKSCluster")).not.toHaveProperty("podName");
    expect(f.resourceKey).toBe("prod-eks");
  });

  it("keys a non-pod workload (a Deployment) by the cluster, keeping the workload", () => {
    const typePath = ["resource", "kubernetesDetails", "kubernetesWorkloadDetails", "type"];
    const detail = setIn(eksFinding({ clusterName: "c1" }), typePath, "deployments");
    const f = expectFinding(parseDetail(detail));
    expect(resourceOf(f, "EKSCluster")).toMatchObject({ workloadKind: "deployments" });
    expect(resourceOf(f, "EKSCluster")).not.toHaveProperty("podName");
    expect(f.resourceKey).toBe("c1");
  });

  it.each(RUNTIME_TYPES)("parses the Runtime Monitoring type %s on EKS", (type) => {
    expect(expectFinding(parseDetail(eksFinding({ type }))).resourceType).toBe("EKSCluster");
  });

  it("takes the cluster name from the ARN when the name is absent", () => {
    const detail = deleteIn(eksFinding({ clusterName: "from-arn" }), ["resource", "eksClusterDetails", "name"]);
    expect(resourceOf(expectFinding(parseDetail(detail)), "EKSCluster").clusterName).toBe("from-arn");
  });

  it("rejects pod and namespace names that are not DNS-1123", () => {
    const w = ["resource", "kubernetesDetails", "kubernetesWorkloadDetails"];
    expect(expectRejected(parseDetail(setIn(eksFinding(), [...w, "namespace"], "Kube_System")), "invalid_identifier")).toContain(
      "kubernetesWorkloadDetails.namespace",
    );
    expectRejected(parseDetail(setIn(eksFinding(), [...w, "name"], "web/../../secrets")), "invalid_identifier");
    expectRejected(parseDetail(setIn(eksFinding(), [...w, "uid"], "not-a-uuid")), "invalid_identifier");
  });

  it("rejects a cluster ARN in another account, and a name that disagrees with the ARN", () => {
    const other = setIn(eksFinding(), ["resource", "eksClusterDetails", "arn"], "arn:aws:eks:us-east-1:999988887777:cluster/prod-eks");
    expectRejected(parseDetail(other), "account_mismatch");
    const disagree = setIn(eksFinding({ clusterName: "a" }), ["resource", "eksClusterDetails", "name"], "b");
    expectRejected(parseDetail(disagree), "invalid_finding");
  });

  it("rejects an EKS finding with no cluster name at all", () => {
    expectRejected(parseDetail(deleteIn(eksFinding(), ["resource", "eksClusterDetails"])), "invalid_finding");
  });
});

describe("ECSCluster", () => {
  it("maps a task-level finding and keys it by the task ARN", () => {
    const f = expectFinding(parseDetail(ecsFinding({ clusterName: "payments", seed: "ecs-1" })));
    const r = resourceOf(f, "ECSCluster");
    expect(r.clusterArn).toBe("arn:aws:ecs:us-east-1:111122223333:cluster/payments");
    expect(r.clusterName).toBe("payments");
    expect(r.taskArn).toMatch(/^arn:aws:ecs:us-east-1:111122223333:task\/payments\/[0-9a-f]{32}$/);
    expect(r.taskDefinitionArn).toBe("arn:aws:ecs:us-east-1:111122223333:task-definition/payments-api:42");
    expect(r.containers).toHaveLength(1);
    expect(r.containers[0]).toMatchObject({
      name: "api",
      image: "111122223333.dkr.ecr.us-east-1.amazonaws.com/payments-api:1.8.2",
    });
    expect(r.containers[0]?.containerId).toMatch(/^[0-9a-f]{32}-2970111234$/);
    expect(r.containers[0]).not.toHaveProperty("imageDigest");
    expect(f.resourceKey).toBe(r.taskArn);
  });

  it("keys a finding without a task by the cluster ARN", () => {
    const f = expectFinding(parseDetail(ecsFinding({ withTask: false })));
    expect(f.resourceKey).toBe("arn:aws:ecs:us-east-1:111122223333:cluster/payments");
  });

  it("builds the cluster ARN from the finding's account and region when only the name is reported", () => {
    const detail = deleteIn(ecsFinding({ clusterName: "batch", accountId: "444455556666", region: "eu-west-1" }), [
      "resource",
      "ecsClusterDetails",
      "arn",
    ]);
    const r = resourceOf(expectFinding(parseDetail(detail)), "ECSCluster");
    expect(r.clusterArn).toBe("arn:aws:ecs:eu-west-1:444455556666:cluster/batch");
  });

  it("rejects a task that belongs to another cluster, or another account", () => {
    const task = ["resource", "ecsClusterDetails", "taskDetails", "arn"];
    const otherCluster = setIn(ecsFinding(), task, `arn:aws:ecs:us-east-1:111122223333:task/other/${"a".repeat(32)}`);
    expectRejected(parseDetail(otherCluster), "invalid_finding");
    const otherAccount = setIn(ecsFinding(), task, `arn:aws:ecs:us-east-1:999988887777:task/payments/${"a".repeat(32)}`);
    expectRejected(parseDetail(otherAccount), "account_mismatch");
  });

  it("rejects malformed task and task definition ARNs", () => {
    const t = ["resource", "ecsClusterDetails", "taskDetails"];
    const badTask = "arn:aws:ecs:us-east-1:111122223333:task/payments/xyz";
    expectRejected(parseDetail(setIn(ecsFinding(), [...t, "arn"], badTask)), "invalid_identifier");
    expectRejected(
      parseDetail(setIn(ecsFinding(), [...t, "definitionArn"], "arn:aws:ecs:us-east-1:111122223333:task-definition/api")),
      "invalid_identifier",
    );
  });

  it("merges cluster and task tags", () => {
    const taskTags = ["resource", "ecsClusterDetails", "taskDetails", "tags"];
    const detail = setIn(ecsFinding({ tags: [{ key: "team", value: "payments" }] }), taskTags, [
      { key: "gdr:exempt", value: "true" },
    ]);
    expect(expectFinding(parseDetail(detail)).tags).toEqual([
      { key: "team", value: "payments" },
      { key: "gdr:exempt", value: "true" },
    ]);
  });

  it("rejects more than 64 containers in a task", () => {
    const containers = Array.from({ length: 65 }, (_, i) => ({ name: `c${i}`, image: "nginx:1.27" }));
    const detail = setIn(ecsFinding(), ["resource", "ecsClusterDetails", "taskDetails", "containers"], containers);
    expectRejected(parseDetail(detail), "invalid_finding");
  });
});

describe("Container", () => {
  it("maps a standalone container by its container id, with its image digest and host", () => {
    const f = expectFinding(parseDetail(containerFinding({ containerId: "a".repeat(64) })));
    const r = resourceOf(f, "Container");
    expect(r).toMatchObject({ containerId: "a".repeat(64), containerName: "worker", containerRuntime: "docker" });
    expect(r.imageDigest).toMatch(/^sha256:/);
    expect(r.instanceId).toMatch(/^i-/);
    expect(f.resourceKey).toBe("a".repeat(64));
  });

  it("falls back to the image digest, then the image, as key", () => {
    const noId = deleteIn(containerFinding(), ["resource", "containerDetails", "id"]);
    expect(expectFinding(parseDetail(noId)).resourceKey).toMatch(/^sha256:[0-9a-f]{64}$/);
    setIn(noId, ["resource", "containerDetails", "image"], "nginx:1.27");
    expect(expectFinding(parseDetail(noId)).resourceKey).toBe("nginx:1.27");
  });

  it("rejects a Container finding that names neither a container id nor an image", () => {
    const detail = deleteIn(containerFinding(), ["resource", "containerDetails", "id"]);
    deleteIn(detail, ["resource", "containerDetails", "image"]);
    expectRejected(parseDetail(detail), "invalid_finding");
  });

  it("rejects container ids and images with characters a shell or registry would misread", () => {
    const c = ["resource", "containerDetails"];
    expectRejected(parseDetail(setIn(containerFinding(), [...c, "id"], "abc $(id)")), "invalid_identifier");
    expectRejected(parseDetail(setIn(containerFinding(), [...c, "image"], "nginx@sha256:short")), "invalid_identifier");
    expectRejected(parseDetail(setIn(containerFinding(), [...c, "image"], "NGINX:latest")), "invalid_identifier");
  });
});

describe("AccessKey", () => {
  it("maps instance credentials used outside AWS: an ASIA session key of an assumed role", () => {
    const f = expectFinding(parseDetail(accessKeyFinding({ accessKeyId: "ASIAY34FZKBOKMUTVV7A" })));
    const r = resourceOf(f, "AccessKey");
    expect(f.type).toBe("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS");
    expect(r).toMatchObject({ accessKeyId: "ASIAY34FZKBOKMUTVV7A", userType: "AssumedRole", userName: "app-server-role" });
    expect(r.principalId).toMatch(/^AROA[0-9A-F]{17}:i-/);
    expect(f.resourceKey).toBe("ASIAY34FZKBOKMUTVV7A");
  });

  it.each([
    ["a lowercase key", "asiay34fzkbokmutvv7a"],
    ["a wrong prefix", "ABIAY34FZKBOKMUTVV7A"],
    ["a short key", "AKIA1234"],
    ["look-alike letters", "ΑKIAY34FZKBOKMUTVV7A"],
  ])("rejects %s as access key id", (_label, accessKeyId) => {
    const message = expectRejected(parseDetail(accessKeyFinding({ accessKeyId })), "invalid_identifier");
    expect(message).toContain("accessKeyDetails.accessKeyId");
  });

  it("keys by <userType>/<userName>, then by principal id, when there is no key id", () => {
    const noKey = accessKeyFinding({ userType: "IAMUser", userName: "alice" });
    deleteIn(noKey, ["resource", "accessKeyDetails", "accessKeyId"]);
    expect(expectFinding(parseDetail(noKey)).resourceKey).toBe("IAMUser/alice");
    deleteIn(noKey, ["resource", "accessKeyDetails", "userName"]);
    expect(expectFinding(parseDetail(noKey)).resourceKey).toMatch(/^AROA/);
  });

  it("rejects an IAM user name outside IAM's character set", () => {
    expectRejected(parseDetail(accessKeyFinding({ userName: "alice smith" })), "invalid_identifier");
  });
});

describe("unsupported resource types", () => {
  it("parses S3 findings as Other with a null key (policy routing ignores them)", () => {
    const f = expectFinding(parseDetail(s3Finding()));
    expect(f.resource).toEqual({ type: "Other", resourceType: "S3Bucket" });
    expect(f.resourceKey).toBeNull();
  });

  it.each(["RDSDBInstance", "Lambda", "S3Object", "EBSVolume"])("parses resourceType %s as Other", (resourceType) => {
    const detail = setIn(s3Finding(), ["resource", "resourceType"], resourceType);
    expect(expectFinding(parseDetail(detail)).resource).toEqual({ type: "Other", resourceType });
  });

  it("rejects a resource type that is not a plain name", () => {
    expectRejected(parseDetail(setIn(s3Finding(), ["resource", "resourceType"], "S3 Bucket<script>")), "invalid_finding");
  });
});

describe("sample findings with GuardDuty's placeholder values", () => {
  // Sample findings carry placeholders such as these (GuardDuty's generated samples).
  function placeholders(detail: JsonObject): JsonObject {
    const eni = ["resource", "instanceDetails", "networkInterfaces", 0];
    setIn(detail, [...eni, "subnetId"], "GeneratedFindingSubnetId");
    setIn(detail, [...eni, "vpcId"], "GeneratedFindingVPCId");
    setIn(detail, [...eni, "securityGroups", 0, "groupId"], "GeneratedFindingSecurityId");
    return detail;
  }

  it("drops placeholder identifiers of a sample finding instead of rejecting it", () => {
    const f = expectFinding(parseDetail(placeholders(instanceFinding({ sample: true, instanceId: "i-99999999" }))));
    const r = resourceOf(f, "Instance");
    expect(f.sample).toBe(true);
    expect(r.instanceId).toBe("i-99999999");
    expect(r.networkInterfaces[0]).not.toHaveProperty("subnetId");
    expect(r.networkInterfaces[0]?.securityGroupIds).toHaveLength(1);
    expect(JSON.stringify(f.resource)).not.toContain("GeneratedFinding");
  });

  it("still rejects the same placeholders in a real finding", () => {
    expectRejected(parseDetail(placeholders(instanceFinding())), "invalid_identifier");
  });

  it("degrades a sample whose placeholders leave no identifier to Other", () => {
    const sampleArn = "arn:aws:ecs:region:123456789000:cluster/clusterName";
    const detail = setIn(ecsFinding({ sample: true }), ["resource", "ecsClusterDetails", "arn"], sampleArn);
    setIn(detail, ["resource", "ecsClusterDetails", "name"], "Generated Finding ECS Cluster");
    const f = expectFinding(parseDetail(detail));
    expect(f.resource).toEqual({ type: "Other", resourceType: "ECSCluster" });
    expect(f.resourceKey).toBeNull();
  });

  it("keeps the top-level identifiers strict even for samples", () => {
    expectRejected(parseDetail(instanceFinding({ sample: true, id: "GeneratedFindingId" })), "invalid_identifier");
  });
});

describe("resourceKeyOf", () => {
  it("follows the documented order for every resource type", () => {
    expect(resourceKeyOf({ type: "Instance", instanceId: "i-12345678", networkInterfaces: [] })).toBe("i-12345678");
    expect(resourceKeyOf({ type: "EKSCluster", clusterName: "c", namespace: "n", containers: [] })).toBe("c");
    expect(resourceKeyOf({ type: "EKSCluster", clusterName: "c", namespace: "n", podName: "p", containers: [] })).toBe("c/n/p");
    expect(resourceKeyOf({ type: "ECSCluster", clusterArn: "cl", containers: [] })).toBe("cl");
    expect(resourceKeyOf({ type: "Container", image: "nginx:1", imageDigest: "sha256:x" })).toBe("sha256:x");
    expect(resourceKeyOf({ type: "AccessKey", userName: "u", principalId: "AIDA" })).toBe("AIDA");
    expect(resourceKeyOf({ type: "Other", resourceType: "Lambda" })).toBeNull();
  });
});
