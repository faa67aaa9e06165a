import { z } from "zod";

/**
 * The plans a remediation stores in `remediations.plan`, typed once: the worker builds them, the
 * approval code reads them (plan-fields.ts), the API answers them (and documents them in its
 * OpenAPI document), the approval page shows them. Two kinds: the frozen plan a person approves by
 * its hash, and the record a dry run leaves (which nobody approves).
 */

/** Any JSON value: what a jsonb column holds and a call's parameters are made of. */
export const jsonValueSchema = z.json();

/**
 * One call that changes something, exactly as the step will send it. `service` is the client's
 * name in the step context (`ec2`, `iam`, ... or an outside client such as a Kubernetes API).
 */
export const plannedCallSchema = z.strictObject({
  service: z.string().min(1),
  operation: z.string().min(1),
  /** The exact parameters, minus nothing: approvers see what will be sent. */
  params: z.record(z.string(), jsonValueSchema),
});
export type PlannedCall = z.infer<typeof plannedCallSchema>;

/**
 * Which job carries a plan out once approved: the containment's continuation or a release. (A
 * remediation's first job, `contain`, never waits on a plan of its own: it freezes one.)
 */
export const planActionSchema = z.enum(["continue", "release"]);
export type PlanAction = z.infer<typeof planActionSchema>;

/**
 * What a rejection or an expiry leaves: `contained` when the resource already is (a release plan,
 * or a destructive step after containment) and the remediation goes back to succeeded;
 * `nothing_done` when the plan was to start changing things, and it ends rejected or expired.
 */
export const declinedOutcomeSchema = z.enum(["contained", "nothing_done"]);
export type DeclinedOutcome = z.infer<typeof declinedOutcomeSchema>;

/** Statuses a contained remediation can be released from (a release plan's `releaseFrom`). */
export const releasableStatusSchema = z.enum(["succeeded", "failed"]);
export type ReleasableStatus = z.infer<typeof releasableStatusSchema>;

/** One step still to run in a frozen plan, with every call it will make. */
export const planStepSchema = z.strictObject({
  name: z.string().min(1),
  /** Terminate, delete, stop…: four-eyes bars more people from approving it. */
  destructive: z.boolean(),
  calls: z.array(plannedCallSchema),
  /**
   * What the approver must know beyond the calls: why the step makes none (a release that leaves a
   * key someone else deactivated), or what its calls do not cover (services left pointing at a
   * deregistered task definition; a service starting the same task again after a stop).
   */
  note: z.string().exactOptional(),
});
export type PlanStep = z.infer<typeof planStepSchema>;

/** The plan a person approves: its sha256 (planHash) is what an approval names. */
export const frozenPlanSchema = z.strictObject({
  remediationId: z.string().min(1),
  action: planActionSchema,
  /**
   * When the plan was frozen. It makes every freeze's hash its own, so one decision per plan hash
   * still lets a plan frozen again later (a second release request on the same state) be decided
   * anew.
   */
  frozenAt: z.iso.datetime(),
  ifDeclined: declinedOutcomeSchema,
  /** A release plan: the status it was asked for from, which a decline puts back. */
  releaseFrom: releasableStatusSchema.exactOptional(),
  /**
   * Why a person is asked where the mode alone would not ask (auto mode held back, e.g. by an
   * exemption tag found on the live resource).
   */
  reason: z.string().exactOptional(),
  /** The steps still to run, each with the exact calls it will make. */
  steps: z.array(planStepSchema),
});
export type FrozenPlan = z.infer<typeof frozenPlanSchema>;

/** One permission check of a dry run: EC2's `DryRun: true`, or why a call was not checked. */
export const dryRunPermissionSchema = z.strictObject({ permitted: z.boolean(), detail: z.string() });

/** A dry run's record: the calls each step would make and whether they would be permitted. */
export const dryRunPlanSchema = z.strictObject({
  remediationId: z.string().min(1),
  steps: z.array(
    z.strictObject({
      name: z.string().min(1),
      destructive: z.boolean(),
      calls: z.array(plannedCallSchema),
      permissions: z.array(dryRunPermissionSchema),
    }),
  ),
});
export type DryRunPlan = z.infer<typeof dryRunPlanSchema>;

/** Whatever `remediations.plan` holds when it is not null. */
export const storedPlanSchema = z.union([frozenPlanSchema, dryRunPlanSchema]);
export type StoredPlan = z.infer<typeof storedPlanSchema>;
