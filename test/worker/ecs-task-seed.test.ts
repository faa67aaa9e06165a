// The ECS seed module against moto: what it seeds is what the ECS task playbook's tests (and the
// compromised-image playbook's) build on, so it is checked here once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ECSClient, UpdateTaskProtectionCommand } from "@aws-sdk/client-ecs";
import { createWorld, type World } from "../support/world/index.js";
import {
  ecsClient,
  pinTaskLifecycle,
  runTask,
  seedCluster,
  seedContainerInstance,
  seedServiceTask,
  seedTaskNetwork,
  targetIds,
  viewContainerInstance,
  viewTask,
  type EcsSeedClients,
} from "../support/seed/ecs.js";

let world: World;
let ecs: ECSClient;
let clients: EcsSeedClients;

beforeAll(async () => {
  world = await createWorld({ database: false, redis: false });
  ecs = ecsClient(world.moto.endpoint);
  clients = { ...world.aws, ecs };
  await pinTaskLifecycle(world.moto.endpoint);
});

afterAll(async () => {
  ecs.destroy();
  await world.close();
});

describe("ECS seed", () => {
  it("runs Fargate awsvpc tasks, service tasks behind an ip target group, and bridge tasks on a container instance", async () => {
    const cluster = await seedCluster(clients);
    const network = await seedTaskNetwork(clients);
    const standalone = await runTask(clients, { cluster, network, image: "nginx:1.27" });
    expect(standalone.eniId).toMatch(/^eni-/);
    expect(standalone.eniGroups).toEqual([...network.securityGroupIds]);
    const service = await seedServiceTask(clients, { cluster, network, image: "nginx:1.27" });
    expect(service.task.group).toBe(`service:${service.serviceName}`);
    expect(service.targetGroup).not.toBeNull();
    expect(await targetIds(clients, service.targetGroup?.targetGroupArn ?? "")).toEqual([`${service.task.privateIp}:8080`]);
    const host = await seedContainerInstance(clients, cluster, network);
    const bridge = await runTask(clients, { cluster, containerInstance: host, image: "nginx:1.27" });
    expect(bridge.eniId).toBeNull();
    expect(bridge.containerInstanceArn).toBe(host.containerInstanceArn);
    for (let i = 0; i < 5; i++) expect((await viewTask(clients, standalone)).lastStatus).toBe("RUNNING");
    const view = await viewContainerInstance(clients, host, [bridge.taskArn, standalone.taskArn]);
    expect(view).toEqual({ status: "ACTIVE", runningTaskArns: [bridge.taskArn] });
    // moto 5.2.5 does not implement UpdateTaskProtection/GetTaskProtection (the answer is not
    // JSON): the playbook's tests cover those calls with SDK middleware, and viewTask says null.
    await expect(
      ecs.send(new UpdateTaskProtectionCommand({ cluster: cluster.clusterName, tasks: [service.task.taskArn], protectionEnabled: true, expiresInMinutes: 60 })),
    ).rejects.toThrow();
    expect((await viewTask(clients, service.task)).protectionEnabled).toBeNull();
  });
});
