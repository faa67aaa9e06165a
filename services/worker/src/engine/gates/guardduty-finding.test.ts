import type { Finding } from "@aws-sdk/client-guardduty";
import { accessKeyFinding, ecsFinding, instanceFinding, setIn, type JsonObject } from "@gdr/samples/findings";
import { describe, expect, it } from "vitest";
import type { RemediationRef } from "../step.js";
import { mismatches, parseGuardDutyFinding, parseStoredFinding } from "./guardduty-finding.js";

/** GetFindings' shape: GuardDuty's document with PascalCase members, as the SDK returns it. */
function asSdk(detail: JsonObject): Finding {
  const convert = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(convert);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.charAt(0).toUpperCase() + k.slice(1), convert(v)]));
  };
  return convert(detail) as Finding;
}

function parsedPair(detail: JsonObject, theirs: JsonObject = detail) {
  const stored = parseStoredFinding(detail);
  const gd = parseGuardDutyFinding(asSdk(theirs));
  if (!stored.ok || !gd.ok) throw new Error(`unparsable: ${JSON.stringify([stored, gd])}`);
  return { stored: stored.finding, guardduty: gd.finding };
}

const ACCOUNT = "123456789012";
const INSTANCE = "i-0123456789abcdef0";
const ref: RemediationRef = { id: "r", findingId: "f", accountId: ACCOUNT, region: "us-east-1", resourceKey: INSTANCE, playbook: "instance", mode: "auto" };

describe("GuardDuty's copy of a finding", () => {
  it("parses with ingest's parser once the SDK's PascalCase members are lower-cased, and agrees with the message it was sent as", () => {
    const detail = instanceFinding({ accountId: ACCOUNT, instanceId: INSTANCE });
    const { stored, guardduty } = parsedPair(detail);
    expect(guardduty).toMatchObject({ id: stored.id, accountId: ACCOUNT, type: stored.type, severity: stored.severity, resourceType: "Instance", resourceKey: INSTANCE });
    expect(mismatches(stored, ref, guardduty)).toEqual([]);
  });

  it("differs when the message claims more severity than GuardDuty gives, not when GuardDuty rates it higher", () => {
    const detail = instanceFinding({ accountId: ACCOUNT, instanceId: INSTANCE, severity: 8 });
    const lower = structuredClone(detail);
    setIn(lower, ["severity"], 5.5);
    const inflated = parsedPair(detail, lower);
    expect(mismatches(inflated.stored, ref, inflated.guardduty)).toEqual(["severity: the stored finding says 8, more than GuardDuty's 5.5"]);
    const higher = structuredClone(detail);
    setIn(higher, ["severity"], 8.9);
    const rated = parsedPair(detail, higher);
    expect(mismatches(rated.stored, ref, rated.guardduty)).toEqual([]);
  });

  it("differs on account, type and resource, also when the remediation acts on another resource than GuardDuty names", () => {
    const detail = instanceFinding({ accountId: ACCOUNT, instanceId: INSTANCE });
    const other = structuredClone(detail);
    setIn(other, ["type"], "Recon:EC2/PortProbeUnprotectedPort");
    setIn(other, ["resource", "instanceDetails", "instanceId"], "i-0fedcba9876543210");
    const pair = parsedPair(detail, other);
    expect(mismatches(pair.stored, ref, pair.guardduty)).toEqual([
      expect.stringMatching(/^resource: GuardDuty names i-0fedcba9876543210/),
      expect.stringMatching(/^type: /),
    ]);
    const agreeing = parsedPair(detail);
    expect(mismatches(agreeing.stored, { ...ref, resourceKey: "i-0fedcba9876543210" }, agreeing.guardduty)).toEqual([
      expect.stringMatching(/the remediation acts on i-0fedcba9876543210/),
    ]);
    expect(mismatches(agreeing.stored, { ...ref, accountId: "111122223333" }, agreeing.guardduty)).toEqual([expect.stringMatching(/^account: /)]);
  });

  it("confirms a remediation made from a conflicting version when GuardDuty names its resource, whatever the stored version claims", () => {
    // Ingest escalated a true conflict: the stored version (acted on first) names INSTANCE, a
    // second valid version names OTHER. A person retries the second; GuardDuty names OTHER.
    const OTHER = "i-0fedcba9876543210";
    const detail = instanceFinding({ accountId: ACCOUNT, instanceId: INSTANCE, severity: 8 });
    const real = structuredClone(detail);
    setIn(real, ["resource", "instanceDetails", "instanceId"], OTHER);
    setIn(real, ["type"], "Recon:EC2/PortProbeUnprotectedPort");
    setIn(real, ["severity"], 2);
    const pair = parsedPair(detail, real);
    expect(mismatches(pair.stored, { ...ref, resourceKey: OTHER }, pair.guardduty)).toEqual([]);
    // The remediation of the stored version is the one GuardDuty does not confirm.
    expect(mismatches(pair.stored, ref, pair.guardduty)).toEqual([expect.stringMatching(/^resource: GuardDuty names i-0fedcba9876543210, the remediation acts on i-0123456789abcdef0/), expect.stringMatching(/^type: /), expect.stringMatching(/^severity: /)]);
  });

  it("differs when GuardDuty names another principal for the same AccessKey finding and key (a forged userName, principalId or userType)", () => {
    const KEY = "ASIAY34FZKBOKMUTVV7A";
    const keyRef: RemediationRef = { ...ref, resourceKey: KEY, playbook: "access-key" };
    const real = accessKeyFinding({ accountId: ACCOUNT, accessKeyId: KEY, userName: "app-server-role", userType: "AssumedRole", principalId: "AROAY34FZKBOKMUTVV7AB:i-0123456789abcdef0" });
    // The forged message reuses the real finding's id and key, naming another role.
    const forged = structuredClone(real);
    setIn(forged, ["resource", "accessKeyDetails", "userName"], "payments-role");
    setIn(forged, ["resource", "accessKeyDetails", "principalId"], "AROAZZZZZZZZZZZZZZZZZ:i-0123456789abcdef0");
    const pair = parsedPair(forged, real);
    expect(mismatches(pair.stored, keyRef, pair.guardduty)).toEqual([
      "principal: GuardDuty names principalId AROAY34FZKBOKMUTVV7AB:i-0123456789abcdef0, the stored finding AROAZZZZZZZZZZZZZZZZZ:i-0123456789abcdef0",
      "principal: GuardDuty names userName app-server-role, the stored finding payments-role",
    ]);
    const retyped = structuredClone(real);
    setIn(retyped, ["resource", "accessKeyDetails", "userType"], "IAMUser");
    const typed = parsedPair(retyped, real);
    expect(mismatches(typed.stored, keyRef, typed.guardduty)).toEqual(["principal: GuardDuty names userType AssumedRole, the stored finding IAMUser"]);
    const agreeing = parsedPair(real);
    expect(mismatches(agreeing.stored, keyRef, agreeing.guardduty)).toEqual([]);
  });
});

describe("GuardDuty's copy of a task finding, for the remediations it leads to", () => {
  const detail = ecsFinding({ accountId: ACCOUNT });
  const pair = parsedPair(detail);
  const taskArn = pair.stored.resourceKey ?? "";
  const task: RemediationRef = { id: "t", findingId: "f", accountId: ACCOUNT, region: "us-east-1", resourceKey: taskArn, playbook: "ecs-task", mode: "auto" };

  it("confirms the image remediation on the image the task runs, and nothing else", () => {
    const image = (pair.stored.resource.type === "ECSCluster" && pair.stored.resource.containers[0]?.image) || "";
    const imageRef: RemediationRef = { ...task, id: "i", playbook: "container-image", resourceKey: image };
    expect(mismatches(pair.stored, imageRef, pair.guardduty)).toEqual([]);
    expect(mismatches(pair.stored, { ...imageRef, resourceKey: "nginx:1.27" }, pair.guardduty)).toEqual([
      `resource: GuardDuty names ${image}, the remediation acts on nginx:1.27`,
    ]);
  });

  it("refuses an image remediation whose stored finding dropped the modifying process GuardDuty names", () => {
    const theirs = setIn(structuredClone(detail), ["service", "runtimeDetails", "context", "modifyingProcess"], { name: "curl" });
    const forged = parsedPair(detail, theirs);
    const image = (forged.stored.resource.type === "ECSCluster" && forged.stored.resource.containers[0]?.image) || "";
    const imageRef: RemediationRef = { ...task, id: "i", playbook: "container-image", resourceKey: image };
    expect(mismatches(forged.stored, imageRef, forged.guardduty)).toEqual(["runtime context: GuardDuty names a modifying process, the stored finding no modifying process"]);
    // The task's own remediation is not about the image's origin.
    expect(mismatches(forged.stored, task, forged.guardduty)).toEqual([]);
  });

  it("confirms a host remediation the task's playbook started on the task, its parent's resource", () => {
    const host: RemediationRef = { ...task, id: "h", playbook: "instance", resourceKey: INSTANCE, parent: { id: "t", playbook: "ecs-task", resourceKey: taskArn } };
    expect(mismatches(pair.stored, host, pair.guardduty)).toEqual([]);
    const otherTask = setIn(structuredClone(detail), ["resource", "ecsClusterDetails", "taskDetails", "arn"], taskArn.replace(/[0-9a-f]{32}$/, "f".repeat(32)));
    const moved = parsedPair(detail, otherTask);
    expect(mismatches(moved.stored, host, moved.guardduty)).toEqual([
      expect.stringMatching(/^resource: GuardDuty names .*f{32}, the remediation acts on .* \(through remediation t, which started this one\)$/),
    ]);
  });
});
