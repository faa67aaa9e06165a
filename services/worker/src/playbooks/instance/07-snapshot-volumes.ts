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
import { VerificationError, type CheckResult, type PlannedCall, type Step, type StepContext } from "../../engine/step.js";
import { send } from "./shared/call.js";
import { ec2DryRun } from "./shared/dry-run.js";
import { SNAPSHOT_ID, VOLUME_ID, expectId, instanceIdOf } from "./shared/ids.js";
import { toJsonObject } from "./shared/json.js";
import { STEP } from "./shared/names.js";
import { preStateOrLive, requirePreState } from "./shared/pre-state.js";
import {
  DEFAULT_EXEMPT_TAG,
  TAG_FINDING_ID,
  TAG_INSTANCE_ID,
  TAG_REMEDIATION_ID,
  TAG_SOURCE_VOLUME_ID,
} from "./shared/tags.js";

export type SnapshotVolumesOutput = {
  snapshots: { volumeId: string; snapshotId: string; state: string }[];
};

/** This remediation's snapshots that are not failed, by source volume. */
async function existingSnapshots(ctx: StepContext): Promise<Map<string, Snapshot>> {
  const byVolume = new Map<string, Snapshot>();
  let nextToken: string | undefined;
  do {
    const out = await send(ctx, "ec2-read", (o) =>
      ctx.aws.ec2.send(
        new DescribeSnapshotsCommand({
          OwnerIds: ["self"],
          Filters: [{ Name: `tag:${TAG_REMEDIATION_ID}`, Values: [ctx.tags.remediationId] }],
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
        o,
      ),
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

function record(volumeIds: readonly string[], snapshots: Map<string, Snapshot>): SnapshotVolumesOutput {
  return {
    snapshots: volumeIds.flatMap((volumeId) => {
      const snapshot = snapshots.get(volumeId);
      if (!snapshot) return [];
      return [
        {
          volumeId,
          snapshotId: expectId(SNAPSHOT_ID, snapshot.SnapshotId, `the snapshot of ${volumeId}`),
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

  async check(ctx): Promise<CheckResult> {
    const volumeIds = volumeIdsOf(requirePreState(ctx).volumes);
    const existing = await existingSnapshots(ctx);
    const missing = volumeIds.filter((v) => !existing.has(v));
    return missing.length === 0 ? { done: true, output: record(volumeIds, existing) } : { done: false, state: missing };
  },

  async act(ctx) {
    const instanceId = instanceIdOf(ctx);
    const volumeIds = volumeIdsOf(requirePreState(ctx).volumes);
    const existing = await existingSnapshots(ctx);
    for (const volumeId of volumeIds.filter((v) => !existing.has(v))) {
      const out = await send(ctx, "ec2-write", (o) =>
        ctx.aws.ec2.send(new CreateSnapshotCommand(snapshotInput(ctx, instanceId, volumeId)), o),
      );
      existing.set(volumeId, { SnapshotId: out.SnapshotId, State: out.State, VolumeId: volumeId });
    }
    return record(volumeIds, existing);
  },

  async verify(ctx) {
    const volumeIds = volumeIdsOf(requirePreState(ctx).volumes);
    const existing = await existingSnapshots(ctx);
    const missing = volumeIds.filter((v) => !existing.has(v));
    if (missing.length > 0) throw new VerificationError(`no snapshot found for ${missing.join(", ")}`);
  },

  async plan(ctx) {
    const instanceId = instanceIdOf(ctx);
    const volumeIds = volumeIdsOf((await preStateOrLive(ctx, DEFAULT_EXEMPT_TAG)).volumes);
    const existing = await existingSnapshots(ctx);
    return volumeIds
      .filter((v) => !existing.has(v))
      .map(
        (volumeId): PlannedCall => ({
          service: "ec2",
          operation: "CreateSnapshot",
          params: toJsonObject(snapshotInput(ctx, instanceId, volumeId)),
        }),
      );
  },

  async dryRun(ctx) {
    const instanceId = instanceIdOf(ctx);
    const volumeIds = volumeIdsOf((await preStateOrLive(ctx, DEFAULT_EXEMPT_TAG)).volumes);
    const results = [];
    for (const volumeId of volumeIds) {
      results.push(
        await ec2DryRun(ctx, "ec2-write", `CreateSnapshot ${volumeId}`, (o) =>
          ctx.aws.ec2.send(new CreateSnapshotCommand({ ...snapshotInput(ctx, instanceId, volumeId), DryRun: true }), o),
        ),
      );
    }
    return results;
  },
};
