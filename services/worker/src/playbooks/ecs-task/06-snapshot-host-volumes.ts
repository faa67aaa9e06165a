// Step 6: evidence on the EC2 launch type: a snapshot of each EBS volume of the task's host, with
// the kit's snapshot step (the Instance playbook's code). A task's container layers, volumes and
// logs written locally live on the host's disks. Fargate: the task runs on infrastructure AWS
// manages, with no EBS volume in the account: the step does not apply and says so.
import type { Step } from "../../engine/step.js";
import { snapshotVolumesStep } from "../kit/evidence/index.js";
import { STEP } from "./names.js";
import { requirePreState } from "./pre-state.js";

export const snapshotHostVolumes: Step = snapshotVolumesStep({
  name: STEP.snapshotHostVolumes,
  target(ctx) {
    const pre = requirePreState(ctx);
    if (pre.hostInstanceId === null) {
      const why = pre.launchType === "EXTERNAL" ? "it runs on an external instance (ECS Anywhere), outside EC2" : "Fargate storage is managed by AWS";
      return { none: `does not apply: a ${pre.launchType} task has no EC2 host in this account whose volumes could be snapshotted (${why})` };
    }
    if (pre.hostVolumeIds.length === 0) return { none: `host ${pre.hostInstanceId} has no EBS volume` };
    return { instanceId: pre.hostInstanceId, volumeIds: pre.hostVolumeIds };
  },
});
