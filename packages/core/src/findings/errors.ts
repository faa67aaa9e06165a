import type { RejectReason } from "./reasons.js";

/**
 * Thrown inside the finding parser when the finding cannot be accepted; parseMessageBody turns it
 * into a `rejected` result. Only this class is caught there: anything else is a bug and surfaces.
 */
export class FindingRejection extends Error {
  override readonly name = "FindingRejection";

  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message);
  }
}
