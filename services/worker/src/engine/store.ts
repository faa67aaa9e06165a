import { planAction, planReleaseFrom, planStepNames, type ReleasableStatus } from "@gdr/core/approvals/plan-fields";
import type { Prisma, PrismaClient } from "@gdr/core/db/client";
import type { Json, RemediationRef } from "./step.js";

export type RemediationStatus = Prisma.RemediationGetPayload<object>["status"];

/** Statuses after which a remediation's containment job has nothing left to do. */
export const FINISHED: ReadonlySet<RemediationStatus> = new Set([
  "succeeded",
  "failed",
  "dry_run",
  "notified",
  "skipped",
  "rejected",
  "expired",
  "cancelled",
  "escalated",
]);

export interface LoadedRemediation {
  ref: RemediationRef;
  status: RemediationStatus;
  planHash: string | null;
  /** Which job the frozen plan on record is for (`continue` or `release`), if there is one. */
  planAction: "continue" | "release" | null;
  /** The steps the plan on record lists: all that an approval of it covers. */
  planSteps: string[];
  /** A release plan's `releaseFrom`: the status a refused or declined release goes back to. */
  planReleaseFrom: ReleasableStatus | null;
  finding: { [key: string]: Json };
  findingCreatedAt: Date;
  createdAt: Date;
  /** When the playbook's containment steps were all done; null: never contained. */
  containedAt: Date | null;
}

/** How a step that ran to its end is recorded. */
export type FinishedStatus = "succeeded" | "skipped" | "unavailable" | "verified";

export interface StepRow {
  name: string;
  status: Prisma.RemediationStepGetPayload<object>["status"];
  attempts: number;
  output: Json | null;
}

/**
 * Every Postgres read and write the engine makes, in one place. Postgres is the record of truth:
 * the step cursor and each step's output live here, so a job picked up again after a crash
 * resumes at the first unfinished step.
 */
export function createEngineStore(prisma: PrismaClient) {
  return {
    async load(remediationId: string): Promise<LoadedRemediation | null> {
      const r = await prisma.remediation.findUnique({
        where: { id: remediationId },
        include: { finding: { select: { raw: true, gdCreatedAt: true } }, parent: { select: { id: true, playbook: true, resourceKey: true } } },
      });
      if (!r) return null;
      return {
        ref: {
          id: r.id,
          findingId: r.findingId,
          accountId: r.accountId,
          region: r.region,
          resourceKey: r.resourceKey,
          playbook: r.playbook,
          mode: r.mode,
          ...(r.parent ? { parent: r.parent } : {}),
        },
        status: r.status,
        planHash: r.planHash,
        planAction: planAction(r.plan),
        planSteps: planStepNames(r.plan),
        planReleaseFrom: planReleaseFrom(r.plan),
        finding: r.finding.raw as { [key: string]: Json },
        findingCreatedAt: r.finding.gdCreatedAt,
        createdAt: r.createdAt,
        containedAt: r.containedAt,
      };
    },

    async steps(remediationId: string): Promise<Map<string, StepRow>> {
      const rows = await prisma.remediationStep.findMany({ where: { remediationId }, orderBy: { order: "asc" } });
      return new Map(rows.map((r) => [r.name, { name: r.name, status: r.status, attempts: r.attempts, output: r.output as Json | null }]));
    },

    async setStatus(remediationId: string, status: RemediationStatus, extra: { error?: string | null } = {}): Promise<void> {
      const finished = FINISHED.has(status);
      await prisma.remediation.update({
        where: { id: remediationId },
        data: {
          status,
          ...(status === "running" ? { startedAt: new Date() } : {}),
          ...(finished ? { finishedAt: new Date() } : {}),
          ...(extra.error !== undefined ? { error: extra.error } : {}),
        },
      });
    },

    /** Marks a step running and counts the attempt; creates its row the first time. */
    async stepStarted(remediationId: string, name: string, order: number): Promise<void> {
      await prisma.remediationStep.upsert({
        where: { remediationId_name: { remediationId, name } },
        create: { remediationId, name, order, status: "running", attempts: 1, startedAt: new Date() },
        update: { status: "running", attempts: { increment: 1 }, startedAt: new Date(), errorClass: null, errorCode: null, errorMessage: null },
      });
    },

    /**
     * Records a finished step. `contains`: it was the last of the playbook's containment steps,
     * and the remediation's `contained_at` is written in the same transaction (kept if already
     * set), so the record never says a step contained without saying the remediation is.
     */
    async stepFinished(
      remediationId: string,
      name: string,
      result: { status: FinishedStatus; output: Json; preState?: Json; awsRequestIds: string[]; actor: string; note?: string; contains?: boolean },
    ): Promise<void> {
      await prisma.$transaction([
        ...(result.contains === true ? [prisma.remediation.updateMany({ where: { id: remediationId, containedAt: null }, data: { containedAt: new Date() } })] : []),
        prisma.remediationStep.update({
          where: { remediationId_name: { remediationId, name } },
          data: {
            status: result.status,
            finishedAt: new Date(),
            output: result.output as Prisma.InputJsonValue,
            ...(result.preState !== undefined ? { preState: result.preState as Prisma.InputJsonValue } : {}),
          },
        }),
        prisma.auditEvent.create({
          data: {
            actor: result.actor,
            action: `step.${result.status}`,
            remediationId,
            awsRequestIds: result.awsRequestIds,
            detail: { step: name, ...(result.note ? { note: result.note } : {}) },
          },
        }),
      ]);
    },

    async stepFailed(
      remediationId: string,
      name: string,
      error: { final: boolean; errorClass: string; code: string; message: string; awsRequestIds: string[]; actor: string },
    ): Promise<void> {
      await prisma.$transaction([
        prisma.remediationStep.update({
          where: { remediationId_name: { remediationId, name } },
          data: {
            status: error.final ? "failed" : "pending",
            ...(error.final ? { finishedAt: new Date() } : {}),
            errorClass: error.errorClass,
            errorCode: error.code,
            errorMessage: error.message.slice(0, 2_000),
          },
        }),
        prisma.auditEvent.create({
          data: {
            actor: error.actor,
            action: error.final ? "step.failed" : "step.retrying",
            remediationId,
            awsRequestIds: error.awsRequestIds,
            detail: { step: name, errorClass: error.errorClass, code: error.code, message: error.message.slice(0, 500) },
          },
        }),
      ]);
    },

    /** Freezes the plan a person must approve; the job ends and nothing waits in memory. */
    async awaitApproval(remediationId: string, step: string, order: number, plan: Json, planHash: string, actor: string): Promise<void> {
      await prisma.$transaction([
        prisma.remediationStep.upsert({
          where: { remediationId_name: { remediationId, name: step } },
          create: { remediationId, name: step, order, status: "awaiting_approval" },
          update: { status: "awaiting_approval" },
        }),
        prisma.remediation.update({
          where: { id: remediationId },
          data: { status: "awaiting_approval", plan: plan as Prisma.InputJsonValue, planHash },
        }),
        prisma.auditEvent.create({
          data: { actor, action: "remediation.awaiting_approval", remediationId, detail: { step, planHash } },
        }),
      ]);
    },

    /** A step that waited for a decision which will not come (refused, escalated) goes back to pending. */
    async releaseWaitingSteps(remediationId: string): Promise<void> {
      await prisma.remediationStep.updateMany({ where: { remediationId, status: "awaiting_approval" }, data: { status: "pending" } });
    },

    async recordPlan(remediationId: string, plan: Json, planHash: string): Promise<void> {
      await prisma.remediation.update({ where: { id: remediationId }, data: { plan: plan as Prisma.InputJsonValue, planHash } });
    },

    async audit(remediationId: string, actor: string, action: string, detail: Json): Promise<void> {
      await prisma.auditEvent.create({ data: { actor, action, remediationId, detail: detail as Prisma.InputJsonValue } });
    },

    /** Whether the remediation has an audit event with this action (a step's mark before a change). */
    async hasAudit(remediationId: string, action: string): Promise<boolean> {
      return (await prisma.auditEvent.findFirst({ where: { remediationId, action }, select: { id: true } })) !== null;
    },

    /**
     * The approval of a plan: approved, for exactly this plan hash. Looked up by hash, not by the
     * step that waited, so a continuation retried after an error or a crash (its step no longer
     * waiting) still finds the approval it runs under.
     */
    async approvedFor(remediationId: string, planHash: string): Promise<{ actor: string } | null> {
      const a = await prisma.approval.findFirst({ where: { remediationId, planHash, decision: "approved" }, orderBy: { decidedAt: "desc" } });
      return a ? { actor: a.actor } : null;
    },
  };
}

export type EngineStore = ReturnType<typeof createEngineStore>;
