import { DescribeAutoScalingInstancesCommand, type AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import type { PrismaClient } from "@gdr/core/db/client";
import type { DemoMessage } from "./samples.js";

/** Prints each message's receipt next to the outcome it should have had; returns the mismatches. */
export async function reportReceipts(prisma: PrismaClient, sent: readonly { message: DemoMessage; id: string }[]): Promise<number> {
  const receipts = await prisma.ingestReceipt.findMany({ where: { sqsMessageId: { in: sent.map((s) => s.id) } } });
  const byId = new Map(receipts.map((r) => [r.sqsMessageId, r]));
  let mismatches = 0;
  const width = Math.max(...sent.map((s) => s.message.label.length));
  console.log(`\n  ${"message".padEnd(width)} outcome    reason`);
  for (const { message, id } of sent) {
    const r = byId.get(id);
    const got = r ? `${r.outcome.padEnd(10)} ${r.reason}` : "(no receipt)";
    const ok = r?.outcome === message.expect.outcome && r.reason === message.expect.reason;
    if (!ok) mismatches += 1;
    console.log(`${ok ? " " : "!"} ${message.label.padEnd(width)} ${got}${ok ? "" : `   (expected ${message.expect.outcome} ${message.expect.reason})`}`);
  }
  const totals = await prisma.ingestReceipt.groupBy({ by: ["outcome"], _count: true, orderBy: { outcome: "asc" } });
  console.log(`\nreceipts: ${totals.map((t) => `${t.outcome} ${t._count}`).join(", ")}  (messages sent: ${sent.length})`);
  return mismatches;
}

export async function reportRemediations(prisma: PrismaClient): Promise<void> {
  const remediations = await prisma.remediation.findMany({ orderBy: { createdAt: "asc" }, include: { steps: { orderBy: { order: "asc" } } } });
  const notes = await stepNotes(prisma);
  const keys = new Map(remediations.map((r) => [r.id, `${r.playbook} ${r.resourceKey}`]));
  console.log(`\nremediations: ${remediations.length}`);
  for (const r of remediations) {
    // A remediation another one started (an ECS task's host) names its starter.
    const parent = r.parentId ? `  (started by ${keys.get(r.parentId) ?? r.parentId})` : "";
    console.log(`  ${r.playbook.padEnd(15)} ${r.mode.padEnd(8)} ${r.status.padEnd(17)} ${r.resourceKey}${parent}`);
    for (const s of r.steps) console.log(`      ${s.name}: ${stepOutcome(s.status, notes.get(`${r.id}/${s.name}/${s.status}`))}`);
  }
}

/**
 * What happened to a step, said plainly: one that could not do its work is "not available" with
 * the reason, never "done"; the note says why a step was skipped (already done, a dry run).
 */
function stepOutcome(status: string, note: string | undefined): string {
  if (status === "unavailable") return `not available: ${note ?? "(no reason recorded)"}`;
  const words = status.replaceAll("_", " ");
  return note && note !== words ? `${words} (${note})` : words;
}

/** The note of each step's latest outcome event (`step.<status>`), by remediation, step and status. */
async function stepNotes(prisma: PrismaClient): Promise<Map<string, string>> {
  const events = await prisma.auditEvent.findMany({ where: { action: { startsWith: "step." } }, orderBy: { id: "asc" } });
  const notes = new Map<string, string>();
  for (const e of events) {
    const detail = e.detail;
    if (!e.remediationId || typeof detail !== "object" || detail === null || Array.isArray(detail)) continue;
    if (typeof detail.step === "string" && typeof detail.note === "string") notes.set(`${e.remediationId}/${detail.step}/${e.action.slice("step.".length)}`, detail.note);
  }
  return notes;
}

/**
 * What moto holds for each instance now: the groups on each interface, snapshots, ASG state. `labels`
 * names an instance that plays another part (the ECS container instance).
 */
export async function reportInstances(ec2: EC2Client, autoscaling: AutoScalingClient, instanceIds: readonly string[], labels: ReadonlyMap<string, string> = new Map()): Promise<void> {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [...instanceIds] }));
  const groups = await ec2.send(new DescribeSecurityGroupsCommand({}));
  const names = new Map((groups.SecurityGroups ?? []).map((g) => [g.GroupId, g]));
  console.log("\ninstances in moto:");
  for (const instance of (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
    const id = instance.InstanceId ?? "?";
    const snapshots = await ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: "tag:guardduty-responder:instance-id", Values: [id] }] }));
    const asg = await autoscaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [id] }));
    const state = instance.Tags?.find((t) => t.Key === "guardduty-responder:state")?.Value ?? "untouched";
    const label = labels.get(id);
    console.log(`  ${id}  ${state}${label ? `  (${label})` : ""}`);
    for (const eni of instance.NetworkInterfaces ?? []) {
      const groupNames = (eni.Groups ?? []).map((g) => {
        const group = names.get(g.GroupId);
        const rules = (group?.IpPermissions?.length ?? 0) + (group?.IpPermissionsEgress?.length ?? 0);
        // The responder's own groups (isolation, transit) show their rules: contained means none.
        return `${g.GroupName ?? g.GroupId ?? "?"}${g.GroupName?.startsWith("guardduty-responder") ? ` (${rules} rules)` : ""}`;
      });
      console.log(`      ${eni.NetworkInterfaceId ?? "?"}: ${groupNames.join(", ")}`);
    }
    const lifecycle = asg.AutoScalingInstances?.[0]?.LifecycleState ?? "not in an Auto Scaling group";
    const protection = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "disableApiTermination" }));
    const protectedText = protection.DisableApiTermination?.Value === true ? "on" : "off";
    console.log(`      snapshots: ${(snapshots.Snapshots ?? []).length}, auto scaling: ${lifecycle}, termination protection: ${protectedText}`);
  }
}
