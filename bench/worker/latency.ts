// Phase 4: time from SQS SendMessage to every interface of the instance isolated, through ingest
// and the worker running against moto. The send time is taken in this process just before
// SendMessage; the isolation time is the isolate step's finished_at, which the worker (also in
// this process) writes from the same clock once every interface was swapped and verified.
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { PrismaClient } from "@gdr/core/db/client";
import { waitUntil } from "../../test/support/index.js";
import { percentile } from "./instrument.js";

export interface Sent {
  findingId: string;
  body: string;
  sentAt: number;
}

/** One message at a time, the i-th at start + i / rate (scheduled, so a slow send does not delay the next). */
export async function sendPaced(sqs: SQSClient, queueUrl: string, messages: readonly { findingId: string; body: string }[], perSecond: number): Promise<Sent[]> {
  const start = Date.now();
  const sent: Sent[] = [];
  const sends: Promise<unknown>[] = [];
  for (const [i, m] of messages.entries()) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const sentAt = Date.now();
    sent.push({ ...m, sentAt });
    sends.push(sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: m.body })));
  }
  await Promise.all(sends);
  return sent;
}

/** Everything at once: SendMessageBatch calls of ten, all in flight together. */
export async function sendBurst(sqs: SQSClient, queueUrl: string, messages: readonly { findingId: string; body: string }[]): Promise<Sent[]> {
  const sent: Sent[] = [];
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    const sentAt = Date.now();
    sent.push(...batch.map((m) => ({ ...m, sentAt })));
    calls.push(
      sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((m, j) => ({ Id: String(j), MessageBody: m.body })) })).then((out) => {
        if ((out.Failed ?? []).length > 0) throw new Error(`SendMessageBatch failed for ${out.Failed?.length} entries`);
      }),
    );
  }
  await Promise.all(calls);
  return sent;
}

interface IsolatedRow {
  finding_id: string;
  created_at: Date;
  dispatched_at: Date | null;
  picked_at: Date | null;
  isolate_started: Date;
  isolate_finished: Date;
}

export interface LatencyReport {
  /** Per finding, milliseconds. */
  total: number[];
  ingest: number[];
  enqueue: number[];
  queueWait: number[];
  beforeIsolate: number[];
  isolate: number[];
  worker: number[];
}

/** Waits until the isolate step of every finding's remediation succeeded; fails fast on a remediation that ended otherwise. */
export async function waitIsolated(prisma: PrismaClient, sent: readonly Sent[], timeoutMs: number): Promise<LatencyReport> {
  const ids = sent.map((s) => s.findingId);
  let rows: IsolatedRow[] = [];
  await waitUntil(
    async () => {
      rows = await prisma.$queryRaw<IsolatedRow[]>`
        SELECT r.finding_id, r.created_at, o.dispatched_at, r.started_at AS picked_at,
               s.started_at AS isolate_started, s.finished_at AS isolate_finished
          FROM remediations r
          JOIN remediation_steps s ON s.remediation_id = r.id AND s.name = 'isolate' AND s.status = 'succeeded'
          LEFT JOIN outbox o ON o.remediation_id = r.id
         WHERE r.finding_id = ANY(${ids}::text[])`;
      if (rows.length >= ids.length) return true;
      const ended = await prisma.remediation.findMany({
        where: { findingId: { in: ids }, status: { in: ["failed", "skipped", "cancelled"] } },
        select: { findingId: true, status: true, error: true },
        take: 3,
      });
      if (ended.length > 0) throw new Error(`remediations ended without isolation: ${JSON.stringify(ended)}`);
      return false;
    },
    { attempts: Math.ceil(timeoutMs / 50), intervalMs: 50, what: `${ids.length} isolations` },
  );
  const sentAt = new Map(sent.map((s) => [s.findingId, s.sentAt]));
  const report: LatencyReport = { total: [], ingest: [], enqueue: [], queueWait: [], beforeIsolate: [], isolate: [], worker: [] };
  for (const row of rows) {
    const t0 = sentAt.get(row.finding_id) ?? Number.NaN;
    const created = row.created_at.getTime();
    const finished = row.isolate_finished.getTime();
    report.total.push(finished - t0);
    report.ingest.push(created - t0);
    report.worker.push(finished - created);
    report.isolate.push(finished - row.isolate_started.getTime());
    if (row.dispatched_at) report.enqueue.push(row.dispatched_at.getTime() - created);
    if (row.picked_at) {
      report.queueWait.push(row.picked_at.getTime() - (row.dispatched_at?.getTime() ?? created));
      report.beforeIsolate.push(row.isolate_started.getTime() - row.picked_at.getTime());
    }
  }
  return report;
}

/** Waits until none of these findings' remediations is queued or running (the worker is idle again). */
export async function waitFinished(prisma: PrismaClient, sent: readonly Sent[], timeoutMs: number): Promise<number> {
  const started = performance.now();
  const ids = sent.map((s) => s.findingId);
  await waitUntil(async () => (await prisma.remediation.count({ where: { findingId: { in: ids }, status: { in: ["queued", "running"] } } })) === 0, {
    attempts: Math.ceil(timeoutMs / 100),
    intervalMs: 100,
    what: "every remediation to finish",
  });
  return performance.now() - started;
}

export const p = (values: readonly number[], q: number): string => `${(percentile(values, q) / 1000).toFixed(3)} s`;
