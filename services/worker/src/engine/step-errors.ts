// The errors a step throws to tell the engine how the remediation ends. Re-exported from step.ts.

/**
 * An output (a step's own, or another step's read back) does not have the shape its schema
 * declares: a bug or a tampered record, never retried.
 */
export class OutputShapeError extends Error {
  override readonly name = "OutputShapeError";
}

/** The effect a step expected is not there after it acted: worth retrying. */
export class VerificationError extends Error {
  override readonly name = "VerificationError";
}

/**
 * There is nothing to do for this remediation, and that is not a failure: the resource is
 * terminated or gone. The remediation ends `skipped`. (An exemption tag on the live resource is
 * not a reason to skip: a workload may tag itself. See Step.holdFor.)
 */
export class SkipRemediation extends Error {
  override readonly name = "SkipRemediation";
  constructor(
    readonly reason: "resource_gone" | "resource_terminated",
    message: string,
  ) {
    super(message);
  }
}

/**
 * This playbook cannot safely act on the resource (root credentials, a federated principal, a
 * resource of a kind it does not handle): nothing is guessed at. The remediation ends `escalated`
 * with the reason, recorded and notified, for a person to handle.
 */
export class EscalateRemediation extends Error {
  override readonly name = "EscalateRemediation";
  /**
   * The step that escalated, when it is not the one the engine was running: set by the engine
   * while it freezes a plan over several steps, so that the record names the right one.
   */
  step: string | undefined;
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}
