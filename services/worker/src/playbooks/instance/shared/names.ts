/** Step names: outputs are stored and read by these. */
export const STEP = {
  identify: "identify",
  leaveAutoScaling: "leave-auto-scaling",
  isolate: "isolate",
  protectEvidence: "protect-evidence",
  leaveTargetGroups: "leave-target-groups",
  tag: "tag",
  snapshotVolumes: "snapshot-volumes",
  malwareScan: "malware-scan",
  verify: "verify",
  terminate: "terminate",
  restoreGroups: "restore-groups",
  exitStandby: "exit-standby",
  reregisterTargets: "reregister-targets",
  tagReleased: "tag-released",
} as const;
