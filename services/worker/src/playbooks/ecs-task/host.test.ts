import { DescribeContainerInstancesCommand } from "@aws-sdk/client-ecs";
import { describe, expect, it } from "vitest";
import type { StepContext } from "../../engine/step.js";
import { UnexpectedIdentifierError } from "../kit/ids.js";
import { hostOf } from "./task.js";

const ARN = "arn:aws:ecs:us-east-1:111122223333:container-instance/payments/0123456789abcdef0123456789abcdef";

function reading(ec2InstanceId: string): Pick<StepContext, "read"> {
  const read = (_service: string, _family: string, command: unknown) => {
    expect(command).toBeInstanceOf(DescribeContainerInstancesCommand);
    return Promise.resolve({ containerInstances: [{ containerInstanceArn: ARN, ec2InstanceId, status: "ACTIVE" }] });
  };
  return { read } as unknown as Pick<StepContext, "read">;
}

describe("hostOf", () => {
  it("names the EC2 instance of an EC2 container instance", async () => {
    expect(await hostOf(reading("i-0123456789abcdef0"), "payments", ARN)).toEqual({ containerInstanceArn: ARN, instanceId: "i-0123456789abcdef0", status: "ACTIVE" });
  });

  it("names no EC2 host for an external instance (ECS Anywhere reports its managed instance id), instead of failing", async () => {
    expect(await hostOf(reading("mi-0123456789abcdef0"), "payments", ARN)).toEqual({ containerInstanceArn: ARN, instanceId: null, status: "ACTIVE" });
  });

  it("refuses anything else", async () => {
    await expect(hostOf(reading("i-../x"), "payments", ARN)).rejects.toThrow(UnexpectedIdentifierError);
  });
});
