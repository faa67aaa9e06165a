// For the engine's unit tests only (never imported by production code): the EngineStore over
// Maps, with the same rules as the Postgres one (store.ts): a step row per name, attempts
// counted, contained_at written with the last containment step and kept once set, the plan's
// fields read with core's plan-fields like the real store reads them.
import { planAction, planReleaseFrom, planStepNames } from "@gdr/core/approvals/plan-fields";
import type { Json, RemediationRef } from "../step.js";
import { FINISHED, type EngineStore, type LoadedRemediation, type RemediationStatus, type StepRow } from "../store.js";

export interface RemediationRecord {
  ref: RemediationRef;
  status: RemediationStatus;
  plan: Json | null;
  planHash: string | null;
  error: string | null;
  containedAt: Date | null;
  finishedAt: Date | null;
  finding: { [key: string]: Json };
  findingCreatedAt: Date;
  createdAt: Date;
}

export interface StepRecord extends StepRow {
  order: number;
  preState: Json | null;
  errorClass: string | null;
  errorCode: string | null;
  errorMessage: string | null;
}

export interface AuditRecord {
  remediationId: string;
  actor: string;
  action: string;
  detail: Json;
  awsRequestIds: string[];
}

export interface ApprovalRecord {
  remediationId: string;
  planHash: string;
  decision: "approved" | "rejected";
  actor: string;
}

export type InMemoryStore = EngineStore & {
  remediations: Map<string, RemediationRecord>;
  stepRows: Map<string, Map<string, StepRecord>>;
  auditEvents: AuditRecord[];
  approvals: ApprovalRecord[];
  /** What the API does when a person approves the plan on record (decide.ts): the approval row. */
  approve(remediationId: string, actor: string): string;
  /** The steps of a remediation in order, as a reader of the record sees them. */
  rowsOf(remediationId: string): StepRecord[];
};

export function createInMemoryStore(): InMemoryStore {
  const remediations = new Map<string, RemediationRecord>();
  const stepRows = new Map<string, Map<string, StepRecord>>();
  const auditEvents: AuditRecord[] = [];
  const approvals: ApprovalRecord[] = [];

  const remediation = (id: string): RemediationRecord => {
    const r = remediations.get(id);
    if (!r) throw new Error(`no remediation ${id}`);
    return r;
  };
  const stepsOf = (id: string): Map<string, StepRecord> => {
    let rows = stepRows.get(id);
    if (!rows) {
      rows = new Map();
      stepRows.set(id, rows);
    }
    return rows;
  };
  const step = (id: string, name: string): StepRecord => {
    const row = stepsOf(id).get(name);
    if (!row) throw new Error(`no step ${name} in remediation ${id}`);
    return row;
  };
  const rowsOf = (id: string): StepRecord[] => [...stepsOf(id).values()].sort((a, b) => a.order - b.order);
  const audit = (remediationId: string, actor: string, action: string, detail: Json, awsRequestIds: string[] = []): void => {
    auditEvents.push({ remediationId, actor, action, detail: structuredClone(detail), awsRequestIds });
  };

  return {
    remediations,
    stepRows,
    auditEvents,
    approvals,
    rowsOf,

    approve(remediationId, actor) {
      const r = remediation(remediationId);
      if (r.status !== "awaiting_approval" || !r.planHash) throw new Error(`remediation ${remediationId} awaits no approval (${r.status})`);
      approvals.push({ remediationId, planHash: r.planHash, decision: "approved", actor });
      audit(remediationId, actor, "remediation.approved", { planHash: r.planHash });
      return r.planHash;
    },

    load(remediationId) {
      const r = remediations.get(remediationId);
      if (!r) return Promise.resolve(null);
      const loaded: LoadedRemediation = {
        ref: { ...r.ref },
        status: r.status,
        planHash: r.planHash,
        planAction: planAction(r.plan),
        planSteps: planStepNames(r.plan),
        planReleaseFrom: planReleaseFrom(r.plan),
        finding: structuredClone(r.finding),
        findingCreatedAt: r.findingCreatedAt,
        createdAt: r.createdAt,
        containedAt: r.containedAt,
      };
      return Promise.resolve(loaded);
    },

    steps(remediationId) {
      return Promise.resolve(new Map(rowsOf(remediationId).map((s) => [s.name, { name: s.name, status: s.status, attempts: s.attempts, output: s.output === null ? null : structuredClone(s.output) }])));
    },

    setStatus(remediationId, status, extra = {}) {
      const r = remediation(remediationId);
      r.status = status;
      if (FINISHED.has(status)) r.finishedAt = new Date();
      if (extra.error !== undefined) r.error = extra.error;
      return Promise.resolve();
    },

    stepStarted(remediationId, name, order) {
      const rows = stepsOf(remediationId);
      const row = rows.get(name);
      if (row) {
        Object.assign(row, { status: "running", attempts: row.attempts + 1, errorClass: null, errorCode: null, errorMessage: null });
      } else {
        rows.set(name, { name, order, status: "running", attempts: 1, output: null, preState: null, errorClass: null, errorCode: null, errorMessage: null });
      }
      return Promise.resolve();
    },

    stepFinished(remediationId, name, result) {
      const row = step(remediationId, name);
      const r = remediation(remediationId);
      if (result.contains === true && r.containedAt === null) r.containedAt = new Date();
      row.status = result.status;
      row.output = structuredClone(result.output);
      if (result.preState !== undefined) row.preState = structuredClone(result.preState);
      audit(remediationId, result.actor, `step.${result.status}`, { step: name, ...(result.note ? { note: result.note } : {}) }, result.awsRequestIds);
      return Promise.resolve();
    },

    stepFailed(remediationId, name, error) {
      const row = step(remediationId, name);
      Object.assign(row, { status: error.final ? "failed" : "pending", errorClass: error.errorClass, errorCode: error.code, errorMessage: error.message });
      audit(remediationId, error.actor, error.final ? "step.failed" : "step.retrying", { step: name, errorClass: error.errorClass, code: error.code, message: error.message }, error.awsRequestIds);
      return Promise.resolve();
    },

    awaitApproval(remediationId, name, order, plan, planHash, actor) {
      const rows = stepsOf(remediationId);
      const row = rows.get(name);
      if (row) row.status = "awaiting_approval";
      else rows.set(name, { name, order, status: "awaiting_approval", attempts: 0, output: null, preState: null, errorClass: null, errorCode: null, errorMessage: null });
      Object.assign(remediation(remediationId), { status: "awaiting_approval", plan: structuredClone(plan), planHash });
      audit(remediationId, actor, "remediation.awaiting_approval", { step: name, planHash });
      return Promise.resolve();
    },

    releaseWaitingSteps(remediationId) {
      for (const row of stepsOf(remediationId).values()) if (row.status === "awaiting_approval") row.status = "pending";
      return Promise.resolve();
    },

    recordPlan(remediationId, plan, planHash) {
      Object.assign(remediation(remediationId), { plan: structuredClone(plan), planHash });
      return Promise.resolve();
    },

    hasAudit(remediationId, action) {
      return Promise.resolve(auditEvents.some((a) => a.remediationId === remediationId && a.action === action));
    },
    audit(remediationId, actor, action, detail) {
      audit(remediationId, actor, action, detail);
      return Promise.resolve();
    },

    approvedFor(remediationId, planHash) {
      const found = approvals.filter((a) => a.remediationId === remediationId && a.planHash === planHash && a.decision === "approved").at(-1);
      return Promise.resolve(found ? { actor: found.actor } : null);
    },
  };
}
