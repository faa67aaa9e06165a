import { ecsFinding, eventBridgeEvent, type EcsFindingOptions } from "@gdr/samples/findings";
import { ECS_CLUSTER, type SeededEcs, type SeededTask } from "./ecs-seed.js";
import type { DemoMessage } from "./samples.js";

/** A Runtime Monitoring finding on a task moto really runs: its ARN, definition, group and image. */
function findingOn(accountId: string, ecs: SeededEcs, task: SeededTask, container: string, options: EcsFindingOptions): string {
  const detail = ecsFinding({
    accountId,
    clusterName: ECS_CLUSTER,
    taskArn: task.taskArn,
    definitionArn: task.taskDefinitionArn,
    launchType: task.launchType,
    group: task.group,
    startedBy: task.startedBy,
    containers: [{ name: container, image: ecs.imageReference }],
    ...options,
  });
  return JSON.stringify(eventBridgeEvent(detail));
}

/**
 * The ECS findings, one per path of issue 10: a service's Fargate task (isolated at once), a
 * bridge task on a container instance (its host's isolation waits for a person), and a malicious
 * file that came with the image itself (no process wrote it: the policy also starts the
 * compromised-image playbook, whose removal of the image everywhere waits for a person).
 */
export function ecsMessages(accountId: string, ecs: SeededEcs): DemoMessage[] {
  return [
    {
      label: "C&C activity in the Fargate task of service payments-api",
      body: findingOn(accountId, ecs, ecs.serviceTask, "api", { severity: 8 }),
      expect: { outcome: "accepted", reason: "new_finding" },
    },
    {
      label: "crypto-miner in the bridge task on a container instance",
      body: findingOn(accountId, ecs, ecs.bridgeTask, "batch", {
        type: "CryptoCurrency:Runtime/BitcoinTool.B!DNS",
        severity: 8,
        title: "Bitcoin-related domain name queried by a container in ECS cluster payments.",
      }),
      expect: { outcome: "accepted", reason: "new_finding" },
    },
    {
      label: "malicious file from the image in task payments-reports",
      body: findingOn(accountId, ecs, ecs.reportsTask, "reports", {
        type: "Execution:Runtime/MaliciousFileExecuted",
        severity: 8,
        title: "A known malicious executable file was executed in a container in ECS cluster payments.",
        // No modifying process: the file was in the image, not written at run time.
        modifyingProcess: false,
      }),
      expect: { outcome: "accepted", reason: "new_finding" },
    },
  ];
}
