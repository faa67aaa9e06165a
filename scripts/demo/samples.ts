import {
  eksFinding,
  eventBridgeEvent,
  instanceFinding,
  s3Finding,
  setIn,
  snsWrap,
  type JsonObject,
} from "@gdr/samples/findings";
import type { SeededInstance } from "../../test/support/index.js";
import { userKeyFinding, type SeededUserKey } from "../../test/support/seed/access-key.js";
import { ecsMessages } from "./ecs-samples.js";
import type { SeededEcs } from "./ecs-seed.js";

/** One message the demo sends, with what the audit store should say about it. */
export interface DemoMessage {
  label: string;
  body: string;
  expect: { outcome: "accepted" | "duplicate" | "ignored" | "rejected"; reason: string };
}

/** A Runtime Monitoring finding on an instance moto really holds: ids, ENIs and groups as seeded. */
function findingOn(instance: SeededInstance, options: Parameters<typeof instanceFinding>[0], tags: { key: string; value: string }[] = []): JsonObject {
  const enis = Object.entries(instance.eniGroups);
  const detail = instanceFinding({ ...options, instanceId: instance.instanceId, tags, eniCount: enis.length });
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

const EXEMPT = [{ key: "guardduty-remediation", value: "exempt" }];

const json = (value: JsonObject): string => JSON.stringify(value);
const event = (detail: JsonObject): string => json(eventBridgeEvent(detail));

/**
 * Three phases, so that the order of versions is known: first arrivals, then GuardDuty's update
 * of a finding (with a duplicate delivery), then the first version arriving late.
 */
export function demoPhases(accountId: string, instances: readonly SeededInstance[], leakedKey: SeededUserKey, ecs: SeededEcs): DemoMessage[][] {
  // Numbered as main.ts seeds them: 1 exempt-tagged, 2 in an Auto Scaling group and a target
  // group, 3 in a target group, 4 in neither.
  const [exempt, second, third, fourth] = instances;
  if (!exempt || !second || !third || !fourth) throw new Error("the demo needs four seeded instances");
  const t0 = new Date(Date.now() - 10 * 60_000);
  const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000).toISOString();
  const miner = findingOn(second, { accountId, count: 1, createdAt: at(0), updatedAt: at(0) });
  const minerId = miner["id"];
  if (typeof minerId !== "string") throw new Error("fixture finding has no id");
  const minerUpdate = findingOn(second, { accountId, id: minerId, count: 4, createdAt: at(0), updatedAt: at(5) });

  const phase1: DemoMessage[] = [
    { label: "crypto-miner on instance 2", body: event(miner), expect: { outcome: "accepted", reason: "new_finding" } },
    {
      label: "C&C activity on instance 3",
      body: event(findingOn(third, { accountId, type: "Backdoor:Runtime/C&CActivity.B!DNS", severity: 8 })),
      expect: { outcome: "accepted", reason: "new_finding" },
    },
    {
      // Medium severity: the policy's `medium` rule plans the containment and waits for a person
      // (main.ts approves it through the API once everything else has settled).
      label: "suspicious command on instance 4 (medium: waits for an approval)",
      body: event(
        findingOn(fourth, {
          accountId,
          type: "Execution:Runtime/SuspiciousCommand",
          severity: 5,
          title: `A suspicious command was executed on EC2 instance ${fourth.instanceId}.`,
        }),
      ),
      expect: { outcome: "accepted", reason: "new_finding" },
    },
    {
      label: "low-severity finding on instance 3 (notify only)",
      body: event(findingOn(third, { accountId, type: "Discovery:Runtime/RawSocketCreated", severity: 2 })),
      expect: { outcome: "accepted", reason: "new_finding" },
    },
    {
      // Low severity: the tag is honoured. On a medium-or-higher finding it would only turn
      // containment into an approval request, and people would be told (policy/README.md).
      label: "low finding on an exempt-tagged instance",
      body: event(findingOn(exempt, { accountId, severity: 2 }, EXEMPT)),
      expect: { outcome: "ignored", reason: "exempt_tag" },
    },
    { label: "EKS pod finding via SNS", body: json(snsWrap(eventBridgeEvent(eksFinding({ accountId })))), expect: { outcome: "accepted", reason: "new_finding" } },
    ...ecsMessages(accountId, ecs),
    {
      // The policy's access-key rule: the key is identified in IAM and the deactivation planned;
      // nothing changes until a person approves (main.ts checks the key is still Active).
      label: `leaked access key of IAM user ${leakedKey.userName} (waits for an approval)`,
      body: event(userKeyFinding(leakedKey, { accountId, severity: 8 })),
      expect: { outcome: "accepted", reason: "new_finding" },
    },
    { label: "archived finding", body: event(findingOn(third, { accountId, archived: true })), expect: { outcome: "ignored", reason: "archived" } },
    { label: "GuardDuty sample finding", body: event(instanceFinding({ accountId, sample: true })), expect: { outcome: "ignored", reason: "sample_finding" } },
    { label: "S3 finding (no playbook)", body: event(s3Finding({ accountId })), expect: { outcome: "ignored", reason: "unsupported_resource_type" } },
    {
      label: "CloudTrail event, not a finding",
      body: json({ version: "0", id: "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": "AWS API Call via CloudTrail", source: "aws.ec2", account: accountId, time: at(0), region: "us-east-1", resources: [], detail: {} }),
      expect: { outcome: "ignored", reason: "not_guardduty_event" },
    },
    { label: "truncated JSON", body: event(miner).slice(0, 200), expect: { outcome: "rejected", reason: "not_json" } },
    {
      label: "prototype-pollution attempt",
      body: event(miner).replace('"resource":{', '"resource":{"__proto__":{"isAdmin":true},'),
      expect: { outcome: "rejected", reason: "hostile_key" },
    },
    {
      label: "duplicated instanceId key (parsers would disagree)",
      body: event(miner).replace('"instanceId":"', '"instanceId":"i-0fedcba9876543210","instanceId":"'),
      expect: { outcome: "rejected", reason: "invalid_json" },
    },
    {
      label: "look-alike instance id (Cyrillic і)",
      body: event(instanceFinding({ accountId, instanceId: "\u0456-0123456789abcdef0" })),
      expect: { outcome: "rejected", reason: "invalid_identifier" },
    },
  ];
  const phase2: DemoMessage[] = [
    { label: "GuardDuty update of the miner finding (count 4)", body: event(minerUpdate), expect: { outcome: "accepted", reason: "finding_updated" } },
  ];
  const phase3: DemoMessage[] = [
    { label: "duplicate delivery of that update", body: event(minerUpdate), expect: { outcome: "duplicate", reason: "same_version" } },
    { label: "first version arriving late", body: event(miner), expect: { outcome: "duplicate", reason: "older_version" } },
  ];
  return [phase1, phase2, phase3];
}
