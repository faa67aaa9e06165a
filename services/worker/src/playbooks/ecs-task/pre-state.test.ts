import { DescribeTaskDefinitionCommand, DescribeTasksCommand } from "@aws-sdk/client-ecs";
import { describe, expect, it } from "vitest";
import { VerificationError, type StepContext } from "../../engine/step.js";
import { collectPreState } from "./pre-state.js";
import { DEFAULT_EXEMPT_TAG } from "./tags.js";

const TASK = "arn:aws:ecs:us-east-1:111122223333:task/payments/0123456789abcdef0123456789abcdef";
const DEFINITION = "arn:aws:ecs:us-east-1:111122223333:task-definition/app:3";

/** A context whose reads answer DescribeTasks and DescribeTaskDefinition only: any other call fails the test. */
function provisioning(attachments: unknown[]): StepContext {
  const read = (_service: string, _family: string, command: unknown) => {
    if (command instanceof DescribeTasksCommand) {
      return Promise.resolve({ tasks: [{ taskArn: TASK, lastStatus: "PROVISIONING", desiredStatus: "RUNNING", launchType: "FARGATE", taskDefinitionArn: DEFINITION, attachments }] });
    }
    if (command instanceof DescribeTaskDefinitionCommand) {
      return Promise.resolve({ taskDefinition: { taskDefinitionArn: DEFINITION, networkMode: "awsvpc", containerDefinitions: [{ name: "app", image: "nginx" }] } });
    }
    throw new Error(`unexpected call ${(command as { constructor: { name: string } }).constructor.name}`);
  };
  return {
    remediation: { id: "r-1", findingId: "f".repeat(32), accountId: "111122223333", region: "us-east-1", resourceKey: TASK, playbook: "ecs-task", mode: "auto" },
    finding: {},
    read,
  } as unknown as StepContext;
}

describe("collectPreState", () => {
  it("retries an awsvpc task still PROVISIONING whose ENI ECS has not attached yet, instead of recording no interface for good", async () => {
    await expect(collectPreState(provisioning([]), DEFAULT_EXEMPT_TAG)).rejects.toThrow(VerificationError);
    await expect(collectPreState(provisioning([{ type: "ElasticNetworkInterface", status: "PRECREATED", details: [] }]), DEFAULT_EXEMPT_TAG)).rejects.toThrow(
      /PROVISIONING and ECS has not attached its network interface yet/,
    );
  });
});
