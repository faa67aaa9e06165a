// Evidence work shared by the playbooks (see README.md).
export { snapshotVolumesOutput, snapshotVolumesStep, type SnapshotTarget, type SnapshotVolumesOptions, type SnapshotVolumesOutput } from "./snapshot-volumes.js";
export { SNAPSHOT_ID, VOLUME_ID } from "./ids.js";
export { TAG_FINDING_ID, TAG_INSTANCE_ID, TAG_REMEDIATION_ID, TAG_SOURCE_VOLUME_ID } from "./tags.js";
