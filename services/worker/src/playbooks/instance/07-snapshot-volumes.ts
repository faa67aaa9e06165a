// Step 7: a snapshot of every EBS volume identify recorded (kit/evidence/snapshot-volumes.ts,
// shared with the ECS task playbook, which snapshots a task's EC2 host the same way).
import type { Step } from "../../engine/step.js";
import { snapshotVolumesStep } from "../kit/evidence/index.js";
import { instanceIdOf } from "./shared/ids.js";
import { STEP } from "./shared/names.js";
import { requirePreState } from "./shared/pre-state.js";

export type { SnapshotVolumesOutput } from "../kit/evidence/index.js";

export const snapshotVolumes: Step = snapshotVolumesStep({
  name: STEP.snapshotVolumes,
  target: (ctx) => ({ instanceId: instanceIdOf(ctx), volumeIds: requirePreState(ctx).volumes.map((v) => v.volumeId) }),
});
