// The audit store's side of the demo's ECS findings: which remediations each finding started, what
// the waiting ones will do once a person approves (their frozen plans, call by call), and whether
// that is what issue 10 promises for each path.
import { frozenPlanSchema } from "@gdr/core/approvals/plan";
import type { PrismaClient } from "@gdr/core/db/client";
import type { Remediation } from "@prisma/client";
import { shortArn } from "./ecs-report.js";
import type { SeededEcs } from "./ecs-seed.js";

export const ECS_PLAYBOOKS = ["ecs-task", "container-image"] as const;

/** The remediations of the three ECS findings, found by the resources they name. */
export interface EcsRemediations {
  serviceTask: Remediation | null;
  reportsTask: Remediation | null;
  bridgeTask: Remediation | null;
  /** The Instance remediation of the bridge task's host, started by the bridge task's. */
  host: Remediation | null;
  /** The compromised-image remediation of the reports task's finding. */
  image: Remediation | null;
}

export async function ecsRemediations(prisma: PrismaClient, ecs: SeededEcs): Promise<EcsRemediations> {
  const task = (arn: string) => prisma.remediation.findFirst({ where: { playbook: "ecs-task", resourceKey: arn } });
  const reportsTask = await task(ecs.reportsTask.taskArn);
  return {
    serviceTask: await task(ecs.serviceTask.taskArn),
    reportsTask,
    bridgeTask: await task(ecs.bridgeTask.taskArn),
    host: await prisma.remediation.findFirst({ where: { playbook: "instance", resourceKey: ecs.host.instanceId } }),
    image: reportsTask ? await prisma.remediation.findFirst({ where: { playbook: "container-image", findingId: reportsTask.findingId } }) : null,
  };
}

/** Before anyone approves: each ECS remediation's status and, for those waiting, the calls planned. */
export function reportEcsPlans(found: EcsRemediations, ecs: SeededEcs, consumed: ReadonlySet<string>): void {
  console.log("\nECS findings, before any approval (audit store):");
  const parentQueued = found.bridgeTask?.status === "queued";
  const rows: { label: string; r: Remediation | null; playbook: string; absent: string }[] = [
    { label: ecs.serviceTask.label, r: found.serviceTask, playbook: "ecs-task", absent: "" },
    { label: ecs.bridgeTask.label, r: found.bridgeTask, playbook: "ecs-task", absent: "" },
    {
      label: `  its host ${ecs.host.instanceId}`,
      r: found.host,
      playbook: "instance",
      // Started by the bridge task's remediation, so it exists only once that one has run.
      absent: parentQueued ? " (the bridge task's remediation, which starts it, is still queued)" : "",
    },
    { label: ecs.reportsTask.label, r: found.reportsTask, playbook: "ecs-task", absent: "" },
    { label: `  its image ${ecs.imageReference}`, r: found.image, playbook: "container-image", absent: "" },
  ];
  for (const { label, r, playbook, absent } of rows) {
    if (!r) {
      console.log(`  ${label}: no ${playbook} remediation${absent}`);
      continue;
    }
    const contained = r.containedAt ? ", contained" : "";
    const waiting = r.status === "queued" && !consumed.has(r.playbook) && r.playbook !== "instance" ? ` (this worker has no ${r.playbook} playbook yet)` : "";
    console.log(`  ${label}: ${r.playbook} ${r.mode} ${r.status}${contained}${waiting}`);
    // The host's plan is the Instance playbook's, shown call by call for the instances already:
    // here one line per step is enough. The ECS plans are listed call by call.
    const lines = r.playbook === "instance" ? plannedSteps(r) : plannedCalls(r);
    for (const line of lines) console.log(`      ${line}`);
  }
}

/** A waiting remediation's frozen plan, one line per call (parameters shortened to stay readable), then what the plan says. */
export function plannedCalls(r: Remediation): string[] {
  if (r.status !== "awaiting_approval") return [];
  const plan = frozenPlanSchema.safeParse(r.plan);
  if (!plan.success) return ["(no frozen plan)"];
  return plan.data.steps.flatMap((s) => {
    if (s.calls.length === 0) return [`waits for ${s.name}: no call${s.note ? ` (${s.note})` : ""}`];
    const calls = s.calls.map((c) => `waits for ${s.name}: ${c.service} ${c.operation} ${paramsText(c.params)}`);
    // The note is what the plan says remains (a service restarting the task, services left as
    // they are): the approver reads it with the calls, so the demo prints it too.
    return s.note ? [...calls, ...wrap(`the plan says: ${s.note}`, 90).map((line) => `  ${line}`)] : calls;
  });
}

/** Lines of at most `width` characters (longer words kept whole), continuation lines indented. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `  ${word}`;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** A waiting remediation's frozen plan, one line per step: its operations with how many calls each. */
function plannedSteps(r: Remediation): string[] {
  if (r.status !== "awaiting_approval") return [];
  const plan = frozenPlanSchema.safeParse(r.plan);
  if (!plan.success) return ["(no frozen plan)"];
  return plan.data.steps.map((s) => {
    const counts = new Map<string, number>();
    for (const c of s.calls) counts.set(`${c.service} ${c.operation}`, (counts.get(`${c.service} ${c.operation}`) ?? 0) + 1);
    const ops = [...counts].map(([op, n]) => (n > 1 ? `${op} ×${n}` : op));
    return `waits for ${s.name}: ${ops.length > 0 ? ops.join(", ") : "no call"}`;
  });
}

function paramsText(params: Record<string, unknown>): string {
  const parts = Object.entries(params).map(([k, v]) => {
    const text = typeof v === "string" ? (v.startsWith("arn:") ? shortArn(v) : v) : JSON.stringify(v);
    return `${k}=${text.length > 90 ? `${text.slice(0, 87)}…` : text}`;
  });
  return parts.join(" ");
}

/** The operations a waiting remediation's frozen plan will call, e.g. ["ecs StopTask", ...]. */
export function plannedOperations(r: Remediation | null): string[] {
  const plan = frozenPlanSchema.safeParse(r?.plan);
  return plan.success ? plan.data.steps.flatMap((s) => s.calls.map((c) => `${c.service} ${c.operation}`)) : [];
}
