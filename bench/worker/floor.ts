// Phases 2 and 3: bare BullMQ Workers on the same Redis with the same concurrency, for
// reference. The floor's processor writes to Postgres what a dry-run remediation writes (the
// same statements, in the same transactions, with the same payloads, taken from a remediation
// phase 1 recorded) and calls no AWS API; the no-op one does nothing at all.
import { Queue, Worker, type Processor } from "bullmq";
import pg from "pg";
import type { PrismaClient } from "@gdr/core/db/client";
import { createRedis } from "@gdr/core/queues/redis";
import { createEngineStore } from "@gdr/worker/engine/store";
import type { Json } from "@gdr/worker/engine/step";

/** Adds `payloads` as jobs, then times a Worker with `concurrency` slots until all completed. */
export async function bareWorkerMs(o: {
  redisUrl: string;
  prefix: string;
  queueName: string;
  concurrency: number;
  payloads: readonly object[];
  processor: Processor;
}): Promise<number> {
  const connection = createRedis(o.redisUrl, "worker");
  const queue = new Queue(o.queueName, { connection, prefix: o.prefix });
  for (let i = 0; i < o.payloads.length; i += 1_000) {
    await queue.addBulk(o.payloads.slice(i, i + 1_000).map((data) => ({ name: o.queueName, data, opts: { removeOnComplete: true } })));
  }
  let completed = 0;
  let failed: Error | undefined;
  let finish: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const started = performance.now();
  // BullMQ does not close a connection it was given: this one is closed below.
  const workerConnection = connection.duplicate();
  const worker = new Worker(o.queueName, o.processor, { connection: workerConnection, prefix: o.prefix, concurrency: o.concurrency });
  worker.on("completed", () => {
    if (++completed === o.payloads.length) finish();
  });
  worker.on("failed", (_job, err) => {
    failed ??= err;
    finish();
  });
  await allDone;
  const ms = performance.now() - started;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  workerConnection.disconnect();
  connection.disconnect();
  if (failed) throw new Error(`a ${o.queueName} job failed: ${failed.message}`);
  return ms;
}

/** What one dry-run remediation wrote, read back from Postgres: replayed by the floors. */
export interface DryRunSample {
  steps: { name: string; order: number; status: "succeeded" | "skipped"; output: Json; requestIds: string[]; note: string | null }[];
  plan: Json;
  planHash: string;
}

export async function readDryRunSample(prisma: PrismaClient, remediationId: string): Promise<DryRunSample> {
  const remediation = await prisma.remediation.findUniqueOrThrow({ where: { id: remediationId } });
  const rows = await prisma.remediationStep.findMany({ where: { remediationId }, orderBy: { order: "asc" } });
  const audits = await prisma.auditEvent.findMany({ where: { remediationId, action: { startsWith: "step." } }, orderBy: { id: "asc" } });
  const steps = rows.map((row) => {
    const audit = audits.find((a) => (a.detail as { step?: string } | null)?.step === row.name);
    if (row.status !== "succeeded" && row.status !== "skipped") throw new Error(`dry-run step ${row.name} ended ${row.status}`);
    return {
      name: row.name,
      order: row.order,
      status: row.status,
      output: row.output as Json,
      requestIds: audit?.awsRequestIds ?? [],
      note: (audit?.detail as { note?: string } | null)?.note ?? null,
    };
  });
  if (remediation.plan === null || remediation.planHash === null) throw new Error(`remediation ${remediationId} has no plan`);
  return { steps, plan: remediation.plan as Json, planHash: remediation.planHash };
}

/**
 * The dry-run's writes through the engine's own store (Prisma), in the runner's order:
 * running, then per step started + finished (step row and audit event in one transaction),
 * the plan, dry_run.
 */
export function storeWrites(prisma: PrismaClient, sample: DryRunSample): Processor<{ remediationId: string }> {
  const store = createEngineStore(prisma);
  return async (job) => {
    const id = job.data.remediationId;
    await store.setStatus(id, "running");
    for (const step of sample.steps) {
      await store.stepStarted(id, step.name, step.order);
      await store.stepFinished(id, step.name, {
        status: step.status,
        output: step.output,
        awsRequestIds: step.requestIds,
        actor: "worker",
        ...(step.note ? { note: step.note } : {}),
      });
    }
    await store.recordPlan(id, sample.plan, sample.planHash);
    await store.setStatus(id, "dry_run");
  };
}

/** The same writes as storeWrites, as plain SQL over node-postgres: the floor without an ORM. */
export function sqlWrites(pool: pg.Pool, sample: DryRunSample): Processor<{ remediationId: string }> {
  const plan = JSON.stringify(sample.plan);
  const steps = sample.steps.map((s) => ({
    ...s,
    output: JSON.stringify(s.output),
    detail: JSON.stringify({ step: s.name, ...(s.note ? { note: s.note } : {}) }),
  }));
  return async (job) => {
    const id = job.data.remediationId;
    await pool.query("UPDATE remediations SET status = 'running', started_at = now(), updated_at = now() WHERE id = $1::uuid", [id]);
    for (const step of steps) {
      await pool.query(
        `INSERT INTO remediation_steps (remediation_id, name, "order", status, attempts, started_at)
         VALUES ($1::uuid, $2, $3, 'running', 1, now())
         ON CONFLICT (remediation_id, name) DO UPDATE
           SET status = 'running', attempts = remediation_steps.attempts + 1, started_at = now(),
               error_class = NULL, error_code = NULL, error_message = NULL`,
        [id, step.name, step.order],
      );
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await client.query(
          `UPDATE remediation_steps SET status = $3::"StepStatus", finished_at = now(), output = $4::jsonb
            WHERE remediation_id = $1::uuid AND name = $2`,
          [id, step.name, step.status, step.output],
        );
        await client.query(
          `INSERT INTO audit_events (actor, action, remediation_id, aws_request_ids, detail)
           VALUES ('worker', $2, $1::uuid, $3::text[], $4::jsonb)`,
          [id, `step.${step.status}`, step.requestIds, step.detail],
        );
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw err;
      } finally {
        client.release();
      }
    }
    await pool.query("UPDATE remediations SET plan = $2::jsonb, plan_hash = $3, updated_at = now() WHERE id = $1::uuid", [id, plan, sample.planHash]);
    await pool.query("UPDATE remediations SET status = 'dry_run', finished_at = now(), updated_at = now() WHERE id = $1::uuid", [id]);
  };
}
