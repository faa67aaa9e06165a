// Remediations written straight into Postgres, exactly as ingest writes them: ingest's own
// recordBatch (finding, receipt, remediation, outbox row and audit event in one transaction per
// ten messages) with a route that sends every finding to the Instance playbook in the given mode.
// Seeding hundreds of instances in moto is what makes the benchmark slow, so many remediations
// share a few instances, each with a finding id of its own.
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@gdr/core/db/client";
import { parseMessageBody, type ParsedFinding } from "@gdr/core/findings/index";
import type { RemediationMode } from "@gdr/core/queues/playbooks";
import { recordBatch, type ParsedMessage } from "@gdr/core/intake/record";
import type { SeededInstance } from "../../test/support/index.js";
import { findingMessage } from "./fleet.js";

/**
 * Records `count` remediations, the i-th on instance i mod instances.length (round robin, so jobs
 * taken in order by a few concurrent slots never share an instance), and returns their ids in
 * that order. Nothing is enqueued.
 */
export async function recordRemediations(
  prisma: PrismaClient,
  instances: readonly SeededInstance[],
  count: number,
  mode: RemediationMode,
  accountId: string,
): Promise<string[]> {
  const findingIds: string[] = [];
  const items: ParsedMessage[] = [];
  for (let i = 0; i < count; i++) {
    const instance = instances[i % instances.length];
    if (!instance) throw new Error("no instances to record remediations on");
    const { findingId, body } = findingMessage(instance, accountId);
    const parsed = parseMessageBody(body);
    if (parsed.status !== "finding") throw new Error(`fixture finding did not parse: ${parsed.message}`);
    findingIds.push(findingId);
    items.push({ message: { messageId: randomUUID(), receiptHandle: "bench", body, receiveCount: 1 }, parsed });
  }
  const route = (finding: ParsedFinding) => ({ action: "remediate" as const, playbook: "instance" as const, mode, rule: `bench-${mode}`, resourceKey: finding.resourceKey ?? "", additional: [], unresolved: [] });
  // One batch after another: remediations are created (and their outbox rows numbered) in order.
  for (let i = 0; i < items.length; i += 10) {
    const batch = items.slice(i, i + 10);
    await prisma.$transaction((tx) => recordBatch(tx, batch, { route }), { timeout: 30_000 });
  }
  const rows = await prisma.remediation.findMany({ where: { findingId: { in: findingIds } }, select: { id: true, findingId: true } });
  const byFinding = new Map(rows.map((r) => [r.findingId, r.id]));
  return findingIds.map((f) => {
    const id = byFinding.get(f);
    if (!id) throw new Error(`no remediation recorded for finding ${f}`);
    return id;
  });
}
