import { describe, expect, it } from "vitest";
import { EscalateRemediation, type JsonObject, type RemediationRef } from "../../engine/step.js";
import { UnexpectedIdentifierError } from "../kit/ids.js";
import { stopReason, STOP_REASON_MAX } from "./08-stop-task.js";
import { taskOf } from "./ids.js";

const ACCOUNT = "111122223333";
const REGION = "us-east-1";
const CURRENT = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/payments/0123456789abcdef0123456789abcdef`;
const OLD = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/01234567-89ab-4cde-8f01-23456789abcd`;

function ctx(resourceKey: string, finding: JsonObject = {}, where: { accountId?: string; region?: string } = {}): { remediation: RemediationRef; finding: JsonObject } {
  return {
    remediation: {
      id: "r-1",
      findingId: "f".repeat(32),
      accountId: where.accountId ?? ACCOUNT,
      region: where.region ?? REGION,
      resourceKey,
      playbook: "ecs-task",
      mode: "auto",
    },
    finding,
  };
}

function cluster(details: JsonObject): JsonObject {
  return { resource: { resourceType: "ECSCluster", ecsClusterDetails: details } };
}

describe("taskOf", () => {
  it("takes the cluster from a current task ARN", () => {
    expect(taskOf(ctx(CURRENT))).toEqual({ taskArn: CURRENT, cluster: "payments" });
  });

  it("takes the cluster of an old-format ARN from the finding's validated cluster ARN, else its name", () => {
    expect(taskOf(ctx(OLD, cluster({ arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/legacy`, name: "ignored" })))).toEqual({ taskArn: OLD, cluster: "legacy" });
    expect(taskOf(ctx(OLD, cluster({ arn: "not an arn", name: "by-name" })))).toEqual({ taskArn: OLD, cluster: "by-name" });
  });

  it("escalates what it cannot act on: no cluster for an old ARN, a cluster-only key, another account or region", () => {
    const reason = (run: () => unknown): string => {
      try {
        run();
      } catch (err) {
        if (err instanceof EscalateRemediation) return err.reason;
        throw err;
      }
      throw new Error("did not escalate");
    };
    expect(reason(() => taskOf(ctx(OLD, cluster({ name: "bad name!" }))))).toBe("no_cluster");
    expect(reason(() => taskOf(ctx(`arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/payments`)))).toBe("no_task");
    expect(reason(() => taskOf(ctx(CURRENT, {}, { accountId: "444455556666" })))).toBe("other_account");
    expect(reason(() => taskOf(ctx(CURRENT, {}, { region: "eu-west-1" })))).toBe("other_account");
    // A finding naming another cluster than the task ARN's is inconsistent: a person looks.
    expect(reason(() => taskOf(ctx(CURRENT, cluster({ arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/other`, name: "other" }))))).toBe("cluster_mismatch");
    expect(taskOf(ctx(CURRENT, cluster({ arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/payments`, name: "payments" })))).toEqual({ taskArn: CURRENT, cluster: "payments" });
  });

  it("refuses a resource key that is not a task ARN before any call", () => {
    expect(() => taskOf(ctx(`${CURRENT}\n`))).toThrow(UnexpectedIdentifierError);
    expect(() => taskOf(ctx("arn:aws:ecs:us-east-1:111122223333:task/payments/../x"))).toThrow(UnexpectedIdentifierError);
  });
});

describe("stopReason", () => {
  it("names the finding and the remediation within ECS's 255 characters", () => {
    const reason = stopReason({ tags: { findingId: "a".repeat(32), remediationId: "b".repeat(300) } });
    expect(reason.length).toBe(STOP_REASON_MAX);
    expect(reason).toContain("a".repeat(32));
    expect(stopReason({ tags: { findingId: "a".repeat(32), remediationId: "r-1" } })).toBe(`Stopped by GuardDuty responder: GuardDuty finding ${"a".repeat(32)}, remediation r-1`);
  });
});
