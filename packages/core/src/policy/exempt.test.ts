// A workload can tag itself exempt; it cannot edit the policy. The tag on a medium-or-higher
// finding therefore only turns automatic containment into an approval request (never into
// nothing) and is always announced; the policy's exempt.resources (ids and ARNs) is honoured.
import { describe, expect, it } from "vitest";
import type { FindingResource, ParsedFinding } from "../findings/types.js";
import { exemptableIdentifiers, exemptInstance } from "./exempt.js";
import { parsePolicy } from "./load.js";
import { route } from "./route.js";

const ACCOUNT = "111122223333";
const INSTANCE = "i-0123456789abcdef0";
const TAG = [{ key: "guardduty-remediation", value: "exempt" }];

function finding(severity: number, resource: FindingResource = { type: "Instance", instanceId: INSTANCE, networkInterfaces: [] }, tags = TAG): ParsedFinding {
  return {
    id: "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4",
    arn: `arn:aws:guardduty:us-east-1:${ACCOUNT}:detector/d1/finding/a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4`,
    accountId: ACCOUNT,
    region: "us-east-1",
    partition: "aws",
    type: "Execution:Runtime/ReverseShell",
    severity,
    title: "A reverse shell",
    createdAt: new Date("2025-01-01T00:00:00Z"),
    updatedAt: new Date("2025-01-01T00:00:00Z"),
    count: 1,
    archived: false,
    sample: false,
    resourceType: resource.type,
    resource,
    resourceKey: INSTANCE,
    tags,
    detail: {},
    envelope: "eventbridge",
  };
}

const policy = (extra = ""): ReturnType<typeof parsePolicy> =>
  parsePolicy(
    `version: 1
accounts: { allow: ["*"] }
${extra}
rules:
  - { name: high, match: { severity: [high, critical] }, mode: auto }
  - { name: medium, match: { severity: medium }, mode: approval }
  - { name: low, match: { severity: low }, mode: auto }
`,
    "test.yaml",
  );

describe("the exempt tag (set by the workload itself)", () => {
  it("turns automatic containment of a high finding into an approval request, announced", () => {
    const decision = route(finding(8), policy());
    expect(decision).toMatchObject({ action: "remediate", playbook: "instance", mode: "approval", rule: "high", exemption: { by: "tag", notify: true } });
    expect(decision.exemption?.message).toMatch(/downgraded to an approval request/);
  });

  it("leaves a medium finding's approval request as it is, announced", () => {
    expect(route(finding(5), policy())).toMatchObject({ action: "remediate", mode: "approval", rule: "medium", exemption: { by: "tag", notify: true } });
  });

  it("never turns a medium-or-higher finding into nothing, whatever the rule's mode", () => {
    for (const severity of [4, 6.9, 7, 9, 10]) {
      const decision = route(finding(severity), policy());
      expect(decision.action, `severity ${severity}`).toBe("remediate");
      expect(decision.exemption?.notify, `severity ${severity}`).toBe(true);
    }
  });

  it("is honoured for a low finding: ignored as exempt_tag and not announced (even where low would contain)", () => {
    expect(route(finding(3.9), policy())).toMatchObject({ action: "ignore", reason: "exempt_tag", exemption: { by: "tag", notify: false } });
    expect(route(finding(3.9, undefined, []), policy())).toMatchObject({ action: "remediate", mode: "auto", rule: "low" });
  });
});

describe("exempt.resources (only the policy's author can change it)", () => {
  it("ignores a finding on an instance named by id, announced when medium or higher", () => {
    const p = policy(`exempt: { resources: [${INSTANCE}] }`);
    expect(route(finding(8, undefined, []), p)).toMatchObject({
      action: "ignore",
      reason: "exempt_resource",
      exemption: { by: "resource", notify: true, message: `the policy exempts ${INSTANCE} (exempt.resources)` },
    });
    expect(route(finding(2, undefined, []), p)).toMatchObject({ reason: "exempt_resource", exemption: { notify: false } });
  });

  it("ignores a finding on an instance named by ARN, before the exempt tag is looked at", () => {
    const arn = `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${INSTANCE}`;
    expect(route(finding(9), policy(`exempt: { resources: ["${arn}"] }`))).toMatchObject({ reason: "exempt_resource", exemption: { by: "resource", notify: true } });
  });

  it("does not exempt the same instance id in another account's ARN", () => {
    const arn = `arn:aws:ec2:us-east-1:444455556666:instance/${INSTANCE}`;
    expect(route(finding(9, undefined, []), policy(`exempt: { resources: ["${arn}"] }`))).toMatchObject({ action: "remediate", mode: "auto" });
  });

  it("names ECS tasks and clusters, EKS clusters, access keys and IAM principals by their ARNs or ids", () => {
    const task = `arn:aws:ecs:us-east-1:${ACCOUNT}:task/prod/0123456789abcdef0123456789abcdef`;
    const cluster = `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/prod`;
    expect(exemptableIdentifiers(finding(8, { type: "ECSCluster", clusterArn: cluster, taskArn: task, containers: [] }))).toEqual([cluster, task]);
    expect(exemptableIdentifiers(finding(8, { type: "EKSCluster", clusterName: "k", containers: [] }))).toEqual([`arn:aws:eks:us-east-1:${ACCOUNT}:cluster/k`]);
    expect(exemptableIdentifiers(finding(8, { type: "AccessKey", accessKeyId: "AKIAIOSFODNN7EXAMPLE", userName: "deploy", userType: "IAMUser" }))).toEqual([
      "AKIAIOSFODNN7EXAMPLE",
      `arn:aws:iam::${ACCOUNT}:user/deploy`,
    ]);
  });

  it("refuses entries that are not an id or ARN the patterns know, naming each", () => {
    const bad = () => policy(`exempt: { resources: ["prod-*", "i-XYZ", "arn:aws:s3:::bucket", "arn:aws:iam::${ACCOUNT}:role/path/name"] }`);
    expect(bad).toThrow(/exempt\.resources/);
    let problems = "";
    try {
      bad();
    } catch (err) {
      problems = String(err);
    }
    for (const index of [0, 1, 2, 3]) expect(problems).toContain(`exempt.resources[${index}]`);
  });

  it("defaults to no exemptions, and refuses an unknown key beside resources", () => {
    expect(policy().exempt.resources).toEqual([]);
    expect(() => policy("exempt: { resource: [i-0123456789abcdef0] }")).toThrow(/resource/);
  });
});

describe("an instance a playbook found (an ECS task's host)", () => {
  const at = { instanceId: "i-0123456789abcdef0", partition: "aws", region: "us-east-1", accountId: "111122223333" };
  it("is exempt when the policy names it by id or by its ARN in its own account and region", () => {
    expect(exemptInstance(["i-0123456789abcdef0"], at)).toBe("i-0123456789abcdef0");
    const arn = "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0";
    expect(exemptInstance([arn], at)).toBe(arn);
    expect(exemptInstance(["arn:aws:ec2:us-west-2:111122223333:instance/i-0123456789abcdef0", "i-0fedcba9876543210"], at)).toBeUndefined();
  });
});
