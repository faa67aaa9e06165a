import { describe, expect, it } from "vitest";
import { ecsFinding, type JsonObject } from "@gdr/samples/findings";
import { expectFinding, parseDetail } from "@gdr/samples/parse-helpers";

function taskDetails(detail: JsonObject): JsonObject {
  const resource = detail["resource"] as JsonObject;
  return (resource["ecsClusterDetails"] as JsonObject)["taskDetails"] as JsonObject;
}

function runtimeContext(detail: JsonObject): JsonObject {
  return ((detail["service"] as JsonObject)["runtimeDetails"] as JsonObject)["context"] as JsonObject;
}

describe("ecsFinding", () => {
  it("keeps its defaults: a Fargate task of the payments-api service", () => {
    const detail = ecsFinding({ seed: "ecs-defaults" });
    const task = taskDetails(detail);
    expect(task["launchType"]).toBe("FARGATE");
    expect(task["group"]).toBe("service:payments-api");
    expect(task["startedBy"]).toBe("ecs-svc/1234567890123456789");
    expect(runtimeContext(detail)).toEqual({});
    const parsed = expectFinding(parseDetail(detail));
    expect(parsed.resourceKey).toBe(task["arn"]);
  });

  it("names a task a test ran: its ARN, cluster, launch type, group and images", () => {
    const taskArn = "arn:aws:ecs:us-east-1:111122223333:task/batch/0123456789abcdef0123456789abcdef";
    const detail = ecsFinding({
      clusterName: "batch",
      taskArn,
      launchType: "EC2",
      group: "family:nightly",
      containers: [
        { name: "job", image: "111122223333.dkr.ecr.us-east-1.amazonaws.com/nightly:7" },
        { name: "sidecar", image: "nginx:1.27" },
      ],
      type: "Execution:Runtime/MaliciousFileExecuted",
    });
    const task = taskDetails(detail);
    expect(task["launchType"]).toBe("EC2");
    expect(task["group"]).toBe("family:nightly");
    expect(task["startedBy"]).toBeUndefined();
    const containers = task["containers"] as JsonObject[];
    expect(containers.map((c) => [c["name"], c["image"], c["imagePrefix"]])).toEqual([
      ["job", "111122223333.dkr.ecr.us-east-1.amazonaws.com/nightly:7", "111122223333.dkr.ecr.us-east-1.amazonaws.com"],
      ["sidecar", "nginx:1.27", ""],
    ]);
    const parsed = expectFinding(parseDetail(detail));
    expect(parsed.type).toBe("Execution:Runtime/MaliciousFileExecuted");
    expect(parsed.resourceKey).toBe(taskArn);
  });

  it("carries a modifying process only when asked", () => {
    expect(runtimeContext(ecsFinding({ modifyingProcess: false }))).toEqual({});
    const context = runtimeContext(ecsFinding({ seed: "writer", modifyingProcess: true }));
    expect((context["modifyingProcess"] as JsonObject)["executablePath"]).toBe("/usr/bin/curl");
    const custom = runtimeContext(ecsFinding({ modifyingProcess: { name: "wget", executablePath: "/usr/bin/wget" } }));
    expect((custom["modifyingProcess"] as JsonObject)["name"]).toBe("wget");
  });

  it("accepts an old-format task ARN without the cluster", () => {
    const taskArn = "arn:aws:ecs:us-east-1:111122223333:task/01234567-89ab-4cde-8f01-23456789abcd";
    expect(expectFinding(parseDetail(ecsFinding({ taskArn }))).resourceKey).toBe(taskArn);
  });
});
