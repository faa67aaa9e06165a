// The confirmation gate: before the first change, ask GuardDuty itself whether it holds this
// finding, in the account and region that own it, and whether it says what the stored finding
// says. The queue proves nothing: anyone who can send to it could otherwise make the service
// isolate production resources (or shadow a real finding with a forged one).
import { GetFindingsCommand } from "@aws-sdk/client-guardduty";
import { classifyAwsError } from "@gdr/core/aws/errors";
import { z } from "zod";
import type { CheckResult, Json, Step, StepContext } from "../step.js";
import { mismatches, parseGuardDutyFinding, parseStoredFinding, viewOf } from "./guardduty-finding.js";

export const CONFIRM_STEP = "confirm-finding";

/** GuardDuty detector ids, like finding ids, are 32 lowercase hex characters. */
const DETECTOR_ID = /^[0-9a-f]{32}$/;

/** The confirm-finding step's output: the verdict, and everything it was based on. */
const confirmationSchema = z.union([
  z.object({ confirmed: z.literal(true), findingId: z.string(), detectorId: z.string().regex(DETECTOR_ID), guardduty: z.json(), checkedAt: z.string() }),
  z.object({
    confirmed: z.literal(false),
    findingId: z.string(),
    detectorId: z.string().regex(DETECTOR_ID).nullable(),
    reason: z.string(),
    mismatches: z.array(z.string()),
    guardduty: z.json(),
    checkedAt: z.string(),
  }),
]);

export type Confirmation = z.infer<typeof confirmationSchema>;

/** Whether a recorded confirm-finding output says GuardDuty confirmed the finding. */
export function isConfirmed(output: Json | undefined): boolean {
  return typeof output === "object" && output !== null && !Array.isArray(output) && output["confirmed"] === true;
}

/** The reason a recorded output gives for not confirming (for the remediation's error). */
export function unconfirmedReason(output: Json | undefined): string {
  if (typeof output === "object" && output !== null && !Array.isArray(output) && typeof output["reason"] === "string") return output["reason"];
  return "GuardDuty did not confirm the finding";
}

function detectorIdOf(raw: { [key: string]: Json }): string | null {
  const service = raw["service"];
  if (typeof service !== "object" || service === null || Array.isArray(service)) return null;
  const id = service["detectorId"];
  return typeof id === "string" && DETECTOR_ID.test(id) ? id : null;
}

/** GuardDuty's answer to a detector id that is not in this account: it cannot know the finding. */
function isUnknownDetector(err: unknown): boolean {
  return classifyAwsError(err).code === "BadRequestException";
}

async function confirm(ctx: StepContext): Promise<Confirmation> {
  const checkedAt = new Date().toISOString();
  const findingId = ctx.remediation.findingId;
  const unverified = (detectorId: string | null, reason: string, found: string[] = [], guardduty: Json = null): Confirmation => ({
    confirmed: false,
    findingId,
    detectorId,
    reason,
    mismatches: found,
    guardduty,
    checkedAt,
  });

  const stored = parseStoredFinding(ctx.finding);
  const detectorId = detectorIdOf(ctx.finding);
  if (!detectorId) return unverified(null, "the stored finding names no valid GuardDuty detector (service.detectorId)");
  if (!stored.ok) return unverified(detectorId, stored.problem);

  let found;
  try {
    const out = await ctx.read("guardduty", "guardduty", new GetFindingsCommand({ DetectorId: detectorId, FindingIds: [findingId] }));
    found = out.Findings ?? [];
  } catch (err) {
    // A detector this account does not have: GuardDuty here cannot know the finding. Anything
    // else (throttling, access denied, 5xx) is an error like any step's, classified by the engine.
    if (isUnknownDetector(err)) return unverified(detectorId, `GuardDuty in ${ctx.remediation.accountId}/${ctx.remediation.region} has no detector ${detectorId}`);
    throw err;
  }
  const match = found.find((f) => f.Id === findingId);
  if (!match) return unverified(detectorId, `GuardDuty detector ${detectorId} in ${ctx.remediation.accountId}/${ctx.remediation.region} does not know finding ${findingId}`);
  const theirs = parseGuardDutyFinding(match);
  if (!theirs.ok) return unverified(detectorId, theirs.problem);
  const guardduty = viewOf(theirs.finding) as unknown as Json;
  // Archived at GuardDuty before anything changed: someone (a person, a suppression rule) decided
  // it needs no action, or ingest took an older active version over a forged archived one; either
  // way a person decides, nothing is done on the queue's word.
  if (theirs.finding.archived) return unverified(detectorId, `GuardDuty holds finding ${findingId} archived`, ["archived at GuardDuty"], guardduty);
  const differences = mismatches(stored.finding, ctx.remediation, theirs.finding);
  if (differences.length > 0) return unverified(detectorId, `the finding does not match GuardDuty's: ${differences.join("; ")}`, differences, guardduty);
  return { confirmed: true, findingId, detectorId, guardduty, checkedAt };
}

/**
 * A step of its own (run by the engine, not listed in any playbook) so that the check is recorded
 * like every step: a row with its output and request ids, an audit event, and errors classified
 * at the step boundary (throttling retried, access denied failing the remediation with its code).
 * An unconfirmed finding is not an error of the step: the step records the verdict and the engine
 * escalates. A finding confirmed once is not asked about again in the same remediation.
 */
export const confirmFinding: Step = {
  name: CONFIRM_STEP,
  destructive: false,
  readOnly: true,
  output: confirmationSchema,

  check(ctx): Promise<CheckResult> {
    const previous = ctx.outputs.get(CONFIRM_STEP);
    // An earlier "not confirmed" is asked again (a retry after someone looked into it).
    return Promise.resolve(isConfirmed(previous) && previous !== undefined ? { done: true, output: previous } : { done: false });
  },

  act(ctx) {
    return confirm(ctx);
  },

  async verify() {
    // Nothing changed in AWS: the step only read.
  },
};
