import type { LoadBalancer, Task, TaskDefinition } from "@aws-sdk/client-ecs";
import { describe, expect, it } from "vitest";
import { expectedTargets } from "./targets.js";

const TG = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web/0123456789abcdef";
const lb: LoadBalancer = { targetGroupArn: TG, containerName: "app", containerPort: 8080 };

function definition(networkMode: TaskDefinition["networkMode"], hostPort?: number): TaskDefinition {
  return { networkMode, containerDefinitions: [{ name: "app", portMappings: [{ containerPort: 8080, ...(hostPort === undefined ? {} : { hostPort }) }] }] };
}

describe("expectedTargets", () => {
  it("awsvpc: the task ENI's IP and the container port", () => {
    expect(expectedTargets({}, definition("awsvpc"), [lb], { privateIp: "10.0.1.7", hostInstanceId: null })).toEqual([{ targetGroupArn: TG, targetId: "10.0.1.7", port: 8080 }]);
  });

  it("bridge: the host and the host port the task's binding names, else the definition's static one", () => {
    const bound: Task = { containers: [{ name: "app", networkBindings: [{ containerPort: 8080, hostPort: 32768 }] }] };
    expect(expectedTargets(bound, definition("bridge", 0), [lb], { privateIp: null, hostInstanceId: "i-0123456789abcdef0" })).toEqual([
      { targetGroupArn: TG, targetId: "i-0123456789abcdef0", port: 32768 },
    ]);
    expect(expectedTargets({}, definition("bridge", 8080), [lb], { privateIp: null, hostInstanceId: "i-0123456789abcdef0" })).toEqual([
      { targetGroupArn: TG, targetId: "i-0123456789abcdef0", port: 8080 },
    ]);
  });

  it("bridge with a dynamic port nobody names: left alone rather than guessed (the host's other tasks share the instance id)", () => {
    expect(expectedTargets({}, definition("bridge", 0), [lb], { privateIp: null, hostInstanceId: "i-0123456789abcdef0" })).toEqual([]);
  });

  it("host mode: the container port is the host port", () => {
    expect(expectedTargets({}, definition("host"), [lb], { privateIp: null, hostInstanceId: "i-0123456789abcdef0" })).toEqual([
      { targetGroupArn: TG, targetId: "i-0123456789abcdef0", port: 8080 },
    ]);
  });
});
