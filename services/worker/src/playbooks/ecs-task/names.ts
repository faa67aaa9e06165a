/** Step names: outputs are stored and read by these. */
export const STEP = {
  identify: "identify",
  protectTask: "protect-task",
  leaveLoadBalancers: "leave-load-balancers",
  isolate: "isolate",
  tag: "tag",
  snapshotHostVolumes: "snapshot-host-volumes",
  verify: "verify",
  stopTask: "stop-task",
  drainHost: "drain-host",
  restoreGroups: "restore-groups",
  removeProtection: "remove-protection",
  reregisterTargets: "reregister-targets",
} as const;
