import type { PlaybookName } from "@gdr/core/queues/playbooks";
import type { Playbook } from "../engine/step.js";
import { accessKeyPlaybook } from "./access-key/index.js";
import { ecsTaskPlaybook } from "./ecs-task/index.js";
import { containerImagePlaybook } from "./container-image/index.js";
import { instancePlaybook } from "./instance/index.js";

export interface PlaybookOptions {
  instanceTerminate: boolean;
  /** The policy's exemption tag, checked again against the live resource before acting. */
  exemptTag: { key: string; value: string };
  /** The role the worker assumes in each account (WORKER_ROLE_NAME): never revoked by the Credentials playbook. */
  responderRoleName?: string | undefined;
}

/**
 * The playbooks this worker runs. A queue without a playbook here gets no BullMQ Worker, so its
 * jobs wait (status `queued`) for a worker version that has it, instead of failing.
 */
export function createPlaybookRegistry(options: PlaybookOptions): ReadonlyMap<PlaybookName, Playbook> {
  return new Map<PlaybookName, Playbook>([
    ["instance", instancePlaybook({ terminate: options.instanceTerminate, exemptTag: options.exemptTag })],
    ["access-key", accessKeyPlaybook({ responderRoleName: options.responderRoleName })],
    ["ecs-task", ecsTaskPlaybook({ exemptTag: options.exemptTag })],
    ["container-image", containerImagePlaybook()],
  ]);
}
