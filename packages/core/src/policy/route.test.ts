import { describe, expect, it } from "vitest";
import { IGNORE_REASONS, type IgnoreReason } from "../findings/reasons.js";
import { SUPPORTED_RESOURCE_TYPES, type FindingResource, type ParsedFinding, type SupportedResourceType } from "../findings/types.js";
import { DEFAULT_PLAYBOOK } from "../queues/playbooks.js";
import { playbookFits } from "./compat.js";
import { loadPolicyFile, parsePolicy } from "./load.js";
import { route, type RouteDecision } from "./route.js";

const ACCOUNT = "111122223333";
const OTHER_ACCOUNT = "444455556666";

const RESOURCES: Record<SupportedResourceType | "Other", FindingResource> = {
  Instance: { type: "Instance", instanceId: "i-0123456789abcdef0", networkInterfaces: [] },
  ECSCluster: { type: "ECSCluster", clusterArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/prod`, containers: [] },
  EKSCluster: { type: "EKSCluster", clusterName: "prod", containers: [] },
  Container: { type: "Container", containerId: "0123456789ab" },
  AccessKey: { type: "AccessKey", accessKeyId: "AKIAIOSFODNN7EXAMPLE", userName: "deploy" },
  Other: { type: "Other", resourceType: "S3Bucket" },
};

/** A ParsedFinding built directly, as the parser would hand it over. */
function finding(overrides: Partial<ParsedFinding> & { on?: keyof typeof RESOURCES } = {}): ParsedFinding {
  const { on = "Instance", ...rest } = overrides;
  const resource = RESOURCES[on];
  return {
    id: "a1b2c3d4e5f6",
    arn: `arn:aws:guardduty:us-east-1:${ACCOUNT}:detector/d1/finding/a1b2c3d4e5f6`,
    accountId: ACCOUNT,
    region: "us-east-1",
    partition: "aws",
    type: "Execution:Runtime/ReverseShell",
    severity: 8,
    title: "A reverse shell",
    createdAt: new Date("2025-01-01T00:00:00Z"),
    updatedAt: new Date("2025-01-01T00:00:00Z"),
    count: 1,
    archived: false,
    sample: false,
    resourceType: resource.type === "Other" ? resource.resourceType : resource.type,
    resource,
    resourceKey: resource.type === "Other" ? null : "key",
    tags: [],
    detail: {},
    envelope: "eventbridge",
    ...rest,
  };
}

const IMAGE = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/payments-api:1.8.2`;
const IMAGE_TASK: FindingResource = {
  type: "ECSCluster",
  clusterArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/prod`,
  taskArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task/prod/0123456789abcdef0123456789abcdef`,
  containers: [{ name: "api", image: IMAGE }, { name: "sidecar", image: IMAGE }],
};

const policyWith = (body: string, allow = '["*"]'): ReturnType<typeof parsePolicy> =>
  parsePolicy(`version: 1\naccounts:\n  allow: ${allow}\n${body}`, "test.yaml");

const remediate = (playbook: string, mode: string, rule: string): RouteDecision =>
  ({ action: "remediate", playbook, mode, rule, resourceKey: "key", additional: [], unresolved: [] }) as RouteDecision;

describe("route: skips before the rules", () => {
  const policy = policyWith("rules: []\n", `["${ACCOUNT}"]`);

  it("ignores archived findings first, whatever else is true of them", () => {
    const decision = route(finding({ archived: true, sample: true, accountId: OTHER_ACCOUNT, on: "Other" }), policy);
    expect(decision).toMatchObject({ action: "ignore", reason: "archived" });
  });

  it("ignores sample findings before looking at the account", () => {
    expect(route(finding({ sample: true, accountId: OTHER_ACCOUNT }), policy)).toMatchObject({ action: "ignore", reason: "sample_finding" });
  });

  it("ignores accounts outside the allow list, and only those", () => {
    expect(route(finding({ accountId: OTHER_ACCOUNT }), policy)).toEqual({
      action: "ignore",
      reason: "account_not_allowed",
      message: `account ${OTHER_ACCOUNT} is not in the policy's accounts.allow`,
    });
    expect(route(finding(), policy).action).toBe("remediate");
    expect(route(finding({ accountId: OTHER_ACCOUNT }), policyWith("rules: []\n")).action).toBe("remediate");
  });

  it("ignores resource types no playbook handles, before the exempt tag", () => {
    const decision = route(finding({ on: "Other", tags: [{ key: "guardduty-remediation", value: "exempt" }] }), policy);
    expect(decision).toEqual({ action: "ignore", reason: "unsupported_resource_type", message: "no playbook handles resource type S3Bucket" });
  });

  it("ignores low findings on resources carrying the exempt tag: key and value exact, case-sensitive", () => {
    const tagged = (key: string, value: string): RouteDecision =>
      route(finding({ severity: 3.9, tags: [{ key: "team", value: "x" }, { key, value }] }), policy);
    const message = "the resource is tagged guardduty-remediation=exempt (honoured for a low-severity finding)";
    expect(tagged("guardduty-remediation", "exempt")).toEqual({
      action: "ignore",
      reason: "exempt_tag",
      message,
      exemption: { by: "tag", notify: false, message },
    });
    expect(tagged("guardduty-remediation", "Exempt").action).toBe("remediate");
    expect(tagged("GuardDuty-Remediation", "exempt").action).toBe("remediate");
    expect(tagged("guardduty-remediation", "exempt ").action).toBe("remediate");
  });

  it("uses the exempt tag the policy names", () => {
    const custom = policyWith("exemptTag: { key: ir-exempt, value: 'true' }\nrules: []\n");
    expect(route(finding({ severity: 2, tags: [{ key: "ir-exempt", value: "true" }] }), custom)).toMatchObject({ reason: "exempt_tag" });
    expect(route(finding({ severity: 2, tags: [{ key: "guardduty-remediation", value: "exempt" }] }), custom).action).toBe("remediate");
  });
});

describe("route: rules", () => {
  it("takes the first matching rule, not the most specific one", () => {
    const policy = policyWith(`rules:
  - name: broad
    match: { severity: [high, critical] }
    mode: approval
  - name: specific
    match: { types: ["Execution:Runtime/ReverseShell"], severity: high, resourceTypes: [Instance] }
    mode: auto
`);
    expect(route(finding(), policy)).toEqual(remediate("instance", "approval", "broad"));
    expect(route(finding({ severity: 5 }), policy)).toEqual(remediate("instance", "notify", "defaults"));
  });

  it("requires every given match field to hold", () => {
    const policy = policyWith(`rules:
  - name: narrow
    match:
      types: ["CryptoCurrency:*", "Execution:Runtime/*"]
      severity: { min: 5 }
      resourceTypes: [Instance, EKSCluster]
      accounts: ["${ACCOUNT}"]
    mode: auto
defaults: { mode: ignore }
`);
    expect(route(finding(), policy)).toEqual(remediate("instance", "auto", "narrow"));
    expect(route(finding({ type: "CryptoCurrency:EC2/BitcoinTool.B!DNS" }), policy)).toMatchObject({ rule: "narrow" });
    expect(route(finding({ on: "EKSCluster" }), policy)).toEqual(remediate("eks-pod", "auto", "narrow"));
    for (const miss of [
      finding({ type: "Backdoor:EC2/C&CActivity.B!DNS" }),
      finding({ severity: 4.9 }),
      finding({ on: "ECSCluster" }),
      finding({ accountId: OTHER_ACCOUNT }),
    ]) {
      expect(route(miss, policy)).toMatchObject({ action: "ignore", reason: "no_matching_rule", rule: "defaults" });
    }
  });

  it("matches type patterns with regex characters literally", () => {
    const policy = policyWith(`rules:
  - name: cc
    match: { types: ["Backdoor:Runtime/C&CActivity.B!DNS", "Odd+(Type"] }
    mode: ignore
`);
    expect(route(finding({ type: "Backdoor:Runtime/C&CActivity.B!DNS" }), policy)).toEqual({
      action: "ignore",
      reason: "policy_ignore",
      message: "rule cc sets mode ignore",
      rule: "cc",
    });
    expect(route(finding({ type: "Backdoor:Runtime/C&CActivityXB!DNS" }), policy).action).toBe("remediate");
    expect(route(finding({ type: "Odd+(Type" }), policy).action).toBe("ignore");
    expect(route(finding({ type: "Oddd(Type" }), policy).action).toBe("remediate");
  });

  it("puts severity band edges where GuardDuty documents them", () => {
    const policy = policyWith(`rules:
  - { name: critical, match: { severity: critical }, mode: auto }
  - { name: high, match: { severity: high }, mode: approval }
  - { name: medium, match: { severity: medium }, mode: dry-run }
  - { name: low, match: { severity: low }, mode: notify }
defaults: { mode: ignore }
`);
    const ruleFor = (severity: number): string | undefined => route(finding({ severity }), policy).rule;
    expect([0.9, 1.0, 3.9, 3.95, 4.0, 6.9, 6.95, 7.0, 8.9, 8.99, 9.0, 10.0].map(ruleFor)).toEqual([
      "defaults",
      "low",
      "low",
      "low",
      "medium",
      "medium",
      "medium",
      "high",
      "high",
      "high",
      "critical",
      "critical",
    ]);
  });

  it("treats a numeric severity range as inclusive at both ends", () => {
    const policy = policyWith(`rules:
  - { name: band, match: { severity: { min: 7.0, max: 8.9 } }, mode: auto }
defaults: { mode: ignore }
`);
    expect([6.9, 7.0, 8.9, 9.0].map((severity) => route(finding({ severity }), policy).action)).toEqual([
      "ignore",
      "remediate",
      "remediate",
      "ignore",
    ]);
  });

  it("stores dry-run as dry_run and uses a rule's playbook over the default", () => {
    const policy = policyWith(`rules:
  - name: image
    match: { types: ["Execution:Runtime/MaliciousFileExecuted"], resourceTypes: [ECSCluster, EKSCluster, Container] }
    playbook: container-image
    mode: dry-run
`);
    const malicious = { type: "Execution:Runtime/MaliciousFileExecuted" };
    expect(route(finding({ ...malicious, resource: IMAGE_TASK }), policy)).toEqual({ ...remediate("container-image", "dry_run", "image"), resourceKey: IMAGE });
    expect(route(finding({ ...malicious, on: "Instance" }), policy)).toEqual(remediate("instance", "notify", "defaults"));
    // An image playbook with no single image to act on is not started on a guess.
    expect(route(finding({ ...malicious, on: "ECSCluster" }), policy)).toEqual({
      action: "ignore",
      reason: "no_target",
      message: "container-image (rule image): the finding names no container image",
      rule: "image",
    });
  });

  it("falls back to defaults with the resource type's default playbook", () => {
    const policy = policyWith("defaults: { mode: approval }\nrules: []\n");
    for (const type of SUPPORTED_RESOURCE_TYPES) {
      expect(route(finding({ on: type }), policy)).toEqual(remediate(DEFAULT_PLAYBOOK[type], "approval", "defaults"));
    }
  });

  it("reaches every ignore reason that belongs to routing", () => {
    const policy = policyWith(
      `exempt: { resources: [i-0fedcba9876543210] }\nrules:\n  - { name: quiet, match: { types: ["Recon:*"] }, mode: ignore }\ndefaults: { mode: ignore }\n`,
      `["${ACCOUNT}"]`,
    );
    const reasons = [
      finding({ archived: true }),
      finding({ sample: true }),
      finding({ accountId: OTHER_ACCOUNT }),
      finding({ on: "Other" }),
      finding({ severity: 2, tags: [{ key: "guardduty-remediation", value: "exempt" }] }),
      finding({ resource: { type: "Instance", instanceId: "i-0fedcba9876543210", networkInterfaces: [] } }),
      finding({ type: "Recon:EC2/PortProbeUnprotectedPort" }),
      finding(),
    ].map((f) => {
      const decision = route(f, policy);
      return decision.action === "ignore" ? decision.reason : undefined;
    });
    const imageRule = policyWith(`rules:\n  - { name: image, match: { resourceTypes: [ECSCluster] }, playbook: container-image, mode: auto }\n`);
    const noImage = route(finding({ on: "ECSCluster" }), imageRule);
    reasons.push(noImage.action === "ignore" ? noImage.reason : undefined);
    // The other two reasons are decided by ingest before a finding exists.
    const ingestOnly: readonly IgnoreReason[] = ["not_guardduty_event", "sns_subscription_message"];
    expect(new Set(reasons)).toEqual(new Set(IGNORE_REASONS.filter((reason) => !ingestOnly.includes(reason))));
    expect(reasons).toHaveLength(new Set(reasons).size);
  });

  it("never routes a resource type to a playbook that cannot handle it by default", () => {
    for (const type of SUPPORTED_RESOURCE_TYPES) expect(playbookFits(DEFAULT_PLAYBOOK[type], type)).toBe(true);
  });
});

describe("route: additional remediations (fan-out)", () => {
  const policy = policyWith(`rules:
  - { name: workloads, match: { severity: [high, critical] }, mode: auto }
  - { name: medium, match: { severity: medium }, mode: approval }
additional:
  - name: from-the-image
    match: { types: ["Execution:Runtime/MaliciousFileExecuted"], resourceTypes: [ECSCluster, EKSCluster], modifyingProcess: absent }
    playbook: container-image
  - name: always-approve
    match: { types: ["Execution:Runtime/NewBinaryExecuted"], resourceTypes: [ECSCluster] }
    playbook: container-image
    mode: approval
defaults: { mode: ignore }
`);
  const fromImage = { type: "Execution:Runtime/MaliciousFileExecuted", resource: IMAGE_TASK, runtime: { modifyingProcess: false } };

  it("adds the image's remediation beside the task's, in the mode the rules chose", () => {
    expect(route(finding(fromImage), policy)).toEqual({
      ...remediate("ecs-task", "auto", "workloads"),
      additional: [{ playbook: "container-image", mode: "auto", rule: "from-the-image", resourceKey: IMAGE }],
    });
    expect(route(finding({ ...fromImage, severity: 5 }), policy)).toMatchObject({ mode: "approval", additional: [{ mode: "approval", resourceKey: IMAGE }] });
    // An entry's own mode wins.
    const newBinary = finding({ ...fromImage, type: "Execution:Runtime/NewBinaryExecuted" });
    expect(route(newBinary, policy)).toMatchObject({ mode: "auto", additional: [{ rule: "always-approve", mode: "approval" }] });
  });

  it("matches modifyingProcess only on findings with runtime details that say so", () => {
    expect(route(finding({ ...fromImage, runtime: { modifyingProcess: true } }), policy)).toMatchObject({ additional: [] });
    const { runtime: _, ...noRuntime } = fromImage;
    expect(route(finding(noRuntime), policy)).toMatchObject({ additional: [] });
  });

  it("records, instead of guessing, an image it cannot single out", () => {
    const twoImages: FindingResource = { ...IMAGE_TASK, containers: [{ image: IMAGE }, { image: "nginx:1.27" }] };
    expect(route(finding({ ...fromImage, resource: twoImages }), policy)).toMatchObject({
      additional: [],
      unresolved: [
        { playbook: "container-image", rule: "from-the-image", reason: `the workload runs 2 images (${IMAGE}, nginx:1.27) and the finding does not say which one carried the file` },
      ],
    });
  });

  it("adds nothing to a finding the rules ignore, and turns an auto extra into an approval under the exempt tag", () => {
    expect(route(finding({ ...fromImage, severity: 2 }), policy)).toMatchObject({ action: "ignore" });
    const tagged = route(finding({ ...fromImage, tags: [{ key: "guardduty-remediation", value: "exempt" }] }), policy);
    expect(tagged).toMatchObject({ mode: "approval", additional: [{ playbook: "container-image", mode: "approval" }] });
  });

  it("refuses an entry whose playbook cannot act on what it matches, and duplicate names", () => {
    expect(() =>
      policyWith(`rules: []
additional:
  - { name: x, match: { resourceTypes: [Instance] }, playbook: container-image }
  - { name: x, match: { resourceTypes: [ECSCluster] }, playbook: container-image }
`),
    ).toThrow(/container-image cannot act on Instance[\s\S]*duplicate name "x"/);
  });
});

describe("policy/default.yaml", () => {
  const policy = loadPolicyFile(new URL("../../../../policy/default.yaml", import.meta.url));

  it("loads, allows every account, and keeps the documented approval settings", () => {
    expect(policy.version).toBe(1);
    expect(policy.accounts.allow).toEqual(["*"]);
    expect(policy.exemptTag).toEqual({ key: "guardduty-remediation", value: "exempt" });
    expect(policy.approval).toEqual({ expiry: "24h", expiryMs: 86_400_000, onExpiry: "cancel" });
    expect(policy.defaults.mode).toBe("notify");
  });

  it("contains high and critical workload findings automatically", () => {
    expect(route(finding({ severity: 7.0 }), policy)).toEqual(remediate("instance", "auto", "workload-high-critical"));
    expect(route(finding({ severity: 8.9, on: "ECSCluster" }), policy)).toEqual(remediate("ecs-task", "auto", "workload-high-critical"));
    expect(route(finding({ severity: 9.0, on: "EKSCluster" }), policy)).toEqual(remediate("eks-pod", "auto", "workload-high-critical"));
    expect(route(finding({ severity: 10, on: "Container" }), policy)).toEqual(remediate("container", "auto", "workload-high-critical"));
  });

  it("asks for approval on medium findings and on access keys", () => {
    expect(route(finding({ severity: 6.9 }), policy)).toEqual(remediate("instance", "approval", "medium"));
    expect(route(finding({ severity: 4.0, on: "EKSCluster" }), policy)).toEqual(remediate("eks-pod", "approval", "medium"));
    expect(route(finding({ severity: 9.5, on: "AccessKey" }), policy)).toEqual(remediate("access-key", "approval", "access-key"));
    expect(route(finding({ severity: 5, on: "AccessKey" }), policy)).toEqual(remediate("access-key", "approval", "access-key"));
  });

  it("only notifies on low findings, whatever the resource", () => {
    expect(route(finding({ severity: 3.9 }), policy)).toEqual(remediate("instance", "notify", "low"));
    expect(route(finding({ severity: 2, on: "AccessKey" }), policy)).toEqual(remediate("access-key", "notify", "low"));
  });

  it("honours the exempt tag on low findings only, and ignores unsupported resources", () => {
    const exempt = [{ key: "guardduty-remediation", value: "exempt" }];
    expect(route(finding({ severity: 2, tags: exempt }), policy)).toMatchObject({ reason: "exempt_tag" });
    expect(route(finding({ severity: 8, tags: exempt }), policy)).toMatchObject({ action: "remediate", mode: "approval", rule: "workload-high-critical" });
    expect(policy.exempt.resources).toEqual([]);
    expect(route(finding({ on: "Other", severity: 9 }), policy)).toMatchObject({ reason: "unsupported_resource_type" });
  });

  it("adds the image's remediation to a task finding whose malicious file came with the image, in the task's band", () => {
    const fromImage = { type: "Execution:Runtime/MaliciousFileExecuted", resource: IMAGE_TASK, runtime: { modifyingProcess: false } };
    const extra = { playbook: "container-image", rule: "image-from-registry", resourceKey: IMAGE };
    expect(route(finding({ ...fromImage, severity: 8 }), policy)).toMatchObject({ playbook: "ecs-task", mode: "auto", additional: [{ ...extra, mode: "auto" }] });
    expect(route(finding({ ...fromImage, severity: 5 }), policy)).toMatchObject({ playbook: "ecs-task", mode: "approval", additional: [{ ...extra, mode: "approval" }] });
    expect(route(finding({ ...fromImage, severity: 8, runtime: { modifyingProcess: true } }), policy)).toMatchObject({ additional: [] });
    expect(route(finding({ ...fromImage, severity: 8, type: "Backdoor:Runtime/C&CActivity.B!DNS" }), policy)).toMatchObject({ additional: [] });
  });
});
