// Evidence: a snapshot of every EBS volume of an instance, tagged with the finding, the
// remediation, the source volume and the instance. CreateSnapshot has no idempotency token, so
// the tags are the record: a re-run (after a crash between CreateSnapshot and the step's output)
// finds this remediation's snapshots by tag and creates only the missing ones.
//
// Shared by the Instance playbook (the instance's own volumes) and the ECS task playbook (the
// volumes of the EC2 host a task runs on): each says which instance and which volumes.
import {
  CreateSnapshotCommand,
  DescribeSnapshotsCommand,
  type CreateSnapshotCommandInput,
  type Snapshot,
} from "@aws-sdk/client-ec2";
import { z } from "zod";
import { VerificationError, type CheckResult, type Step, type StepContext } from "../../../engine/step.js";
import { expectId } from "../ids.js";
import { answeredId, resultOf } from "../planned.js";
import { idOf } from "../schema.js";
import { SNAPSHOT_ID, VOLUME_ID } from "./ids.js";
import { TAG_FINDING_ID, TAG_INSTANCE_ID, TAG_REMEDIATION_ID, TAG_SOURCE_VOLUME_ID } from "./tags.js";

export const snapshotVolumesOutput = z.object({
  snapshots: z.array(z.object({ volumeId: idOf(VOLUME_ID), snapshotId: idOf(SNAPSHOT_ID), state: z.string() })),
});

export type SnapshotVolumesOutput = z.infer<typeof snapshotVolumesOutput>;

/** What a playbook tells the snapshot step: whose volumes, and which. */
export interface SnapshotTarget {
  /** The instance the volumes belong to (checked before any call). */
  instanceId: string;
  /** The volumes to snapshot, as recorded by the playbook's identify. */
  volumeIds: readonly string[];
}

export interface SnapshotVolumesOptions {
  name: string;
  /**
   * The instance and its volumes, from the playbook's recorded pre-state; null when the step does
   * not apply (a Fargate task has no host of its own), with the reason.
   */
  target(ctx: StepContext): SnapshotTarget | { none: string };
}

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

function volumeIdsOf(volumeIds: readonly string[]): string[] {
  return volumeIds.map((v) => expectId(VOLUME_ID, v, "a recorded volume id"));
}

/** A snapshot step for the instance and volumes `options.target` names. */
export function snapshotVolumesStep(options: SnapshotVolumesOptions): Step {
  return {
    name: options.name,
    destructive: false,
    output: snapshotVolumesOutput,

    async check(ctx): Promise<CheckResult> {
      const target = options.target(ctx);
      if ("none" in target) return { done: true, output: { snapshots: [] }, note: target.none };
      const volumeIds = volumeIdsOf(target.volumeIds);
      const existing = await existingSnapshots(ctx);
      const missing = volumeIds.filter((v) => !existing.has(v));
      return missing.length === 0 ? { done: true, output: record(ctx, volumeIds, existing) } : { done: false, state: missing };
    },

    async act(ctx) {
      const target = options.target(ctx);
      if ("none" in target) return { snapshots: [] };
      const volumeIds = volumeIdsOf(target.volumeIds);
      const existing = await existingSnapshots(ctx);
      for (const volumeId of volumeIds.filter((v) => !existing.has(v))) {
        const out = await ctx.change({
          service: "ec2",
          family: "ec2-write",
          command: new CreateSnapshotCommand(snapshotInput(ctx, target.instanceId, volumeId)),
          planned: { SnapshotId: resultOf("CreateSnapshot", "SnapshotId"), State: "pending" },
        });
        existing.set(volumeId, { SnapshotId: out.SnapshotId, State: out.State, VolumeId: volumeId });
      }
      return record(ctx, volumeIds, existing);
    },

    async verify(ctx) {
      const target = options.target(ctx);
      if ("none" in target) return;
      const volumeIds = volumeIdsOf(target.volumeIds);
      const existing = await existingSnapshots(ctx);
      const missing = volumeIds.filter((v) => !existing.has(v));
      if (missing.length > 0) throw new VerificationError(`no snapshot found for ${missing.join(", ")}`);
    },
  };
}
