// Step 7: a snapshot of every EBS volume identify recorded, tagged with the finding, the
// remediation, the source volume and the instance. CreateSnapshot has no idempotency token, so
// the tags are the record: a re-run (after a crash between CreateSnapshot and the step's output)
// finds this remediation's snapshots by tag and creates only the missing ones.
import {
  CreateSnapshotCommand,
  DescribeSnapshotsCommand,
  type CreateSnapshotCommandInput,
  type Snapshot,
} from "@aws-sdk/client-ec2";
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../engine/step.js";
import { answeredId, resultOf } from "../kit/planned.js";
import { SNAPSHOT_ID, VOLUME_ID, expectId, instanceIdOf } from "./shared/ids.js";
import { STEP } from "./shared/names.js";
import { requirePreState } from "./shared/pre-state.js";
import { idOf } from "../kit/schema.js";
import { TAG_FINDING_ID, TAG_INSTANCE_ID, TAG_REMEDIATION_ID, TAG_SOURCE_VOLUME_ID } from "./shared/tags.js";

const snapshotVolumesOutput = z.object({
  snapshots: z.array(z.object({ volumeId: idOf(VOLUME_ID), snapshotId: idOf(SNAPSHOT_ID), state: z.string() })),
});

export type SnapshotVolumesOutput = z.infer<typeof snapshotVolumesOutput>;

/** This remediation's snapshots that are not failed, by source volume. */
async function existingSnapshots(ctx: StepContext): Promise<Map<string, Snapshot>> {
  const byVolume = new Map<string, Snapshot>();
  let nextToken: string | undefined;
  do {
    const out = await ctx.read(
      "ec2",
      "ec2-read",
      new DescribeSnapshotsCommand({
        OwnerIds: ["self"],
        Filters: [{ Name: `tag:${TAG_REMEDIATION_ID}`, Values: [ctx.tags.remediationId] }],
        ...(nextToken ? { NextToken: nextToken } : {}),
      }),
    );
    for (const snapshot of out.Snapshots ?? []) {
      if (snapshot.State === "error") continue; // a failed snapshot is no evidence: take another
      const source = snapshot.Tags?.find((t) => t.Key === TAG_SOURCE_VOLUME_ID)?.Value ?? snapshot.VolumeId;
      if (source !== undefined && !byVolume.has(source)) byVolume.set(source, snapshot);
    }
    nextToken = out.NextToken;
  } while (nextToken);
  return byVolume;
}

function snapshotInput(ctx: StepContext, instanceId: string, volumeId: string): CreateSnapshotCommandInput {
  return {
    VolumeId: volumeId,
    Description: `Evidence for GuardDuty finding ${ctx.tags.findingId}: ${volumeId} of ${instanceId}`.slice(0, 255),
    TagSpecifications: [
      {
        ResourceType: "snapshot",
        Tags: [
          { Key: TAG_FINDING_ID, Value: ctx.tags.findingId },
          { Key: TAG_REMEDIATION_ID, Value: ctx.tags.remediationId },
          { Key: TAG_SOURCE_VOLUME_ID, Value: volumeId },
          { Key: TAG_INSTANCE_ID, Value: instanceId },
        ],
      },
    ],
  };
}

function record(ctx: StepContext, volumeIds: readonly string[], snapshots: Map<string, Snapshot>): SnapshotVolumesOutput {
  return {
    snapshots: volumeIds.flatMap((volumeId) => {
      const snapshot = snapshots.get(volumeId);
      if (!snapshot) return [];
      return [
        {
          volumeId,
          // A placeholder in plan and dry-run mode: the snapshot is not taken then.
          snapshotId: answeredId(ctx, SNAPSHOT_ID, snapshot.SnapshotId, `the snapshot of ${volumeId}`),
          state: snapshot.State ?? "unknown",
        },
      ];
    }),
  };
}

function volumeIdsOf(volumes: readonly { volumeId: string }[]): string[] {
  return volumes.map((v) => expectId(VOLUME_ID, v.volumeId, "a recorded volume id"));
}

export const snapshotVolumes: Step = {
  name: STEP.snapshotVolumes,
  destructive: false,
  output: snapshotVolumesOutput,

  async check(ctx): Promise<CheckResult> {
    const volumeIds = volumeIdsOf(requirePreState(ctx).volumes);
    const existing = await existingSnapshots(ctx);
    const missing = volumeIds.filter((v) => !existing.has(v));
    return missing.length === 0 ? { done: true, output: record(ctx, volumeIds, existing) } : { done: false, state: missing };
  },

  async act(ctx) {
    const instanceId = instanceIdOf(ctx);
    const volumeIds = volumeIdsOf(requirePreState(ctx).volumes);
    const existing = await existingSnapshots(ctx);
    for (const volumeId of volumeIds.filter((v) => !existing.has(v))) {
      const out = await ctx.change({
        service: "ec2",
        family: "ec2-write",
        command: new CreateSnapshotCommand(snapshotInput(ctx, instanceId, volumeId)),
        planned: { SnapshotId: resultOf("CreateSnapshot", "SnapshotId"), State: "pending" },
      });
      existing.set(volumeId, { SnapshotId: out.SnapshotId, State: out.State, VolumeId: volumeId });
    }
    return record(ctx, volumeIds, existing);
  },

  async verify(ctx) {
    const volumeIds = volumeIdsOf(requirePreState(ctx).volumes);
    const existing = await existingSnapshots(ctx);
    const missing = volumeIds.filter((v) => !existing.has(v));
    if (missing.length > 0) throw new VerificationError(`no snapshot found for ${missing.join(", ")}`);
  },
};
