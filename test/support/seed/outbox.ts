// A finding, its remediation and a pending outbox row, as ingest leaves them when it committed a
// batch and died before (or while) enqueueing the job: what the outbox relay starts from.
import { randomUUID } from "node:crypto";
import type { RemediationJob } from "@gdr/core/queues/catalog";
import { jobIdFor } from "@gdr/core/queues/job-ids";
import { instanceFinding, newFindingId } from "@gdr/samples/findings";
import type { TestDatabase } from "../database.js";

export interface PendingOutbox {
  remediationId: string;
  findingId: string;
  jobId: string;
  /** The payload the row should carry (what ingest would have written). */
  payload: RemediationJob;
}

export interface PendingOutboxOptions {
  /** How long ago the row was written, in minutes (the relay leaves fresh rows to ingest). */
  ageMinutes: number;
  /** What the row carries instead of the right payload or queue (the remediation stays right). */
  spoil?: { payload?: Record<string, unknown>; queue?: string };
}

const ACCOUNT_ID = "111122223333";
const REGION = "us-east-1";

export async function seedPendingOutbox(db: TestDatabase, options: PendingOutboxOptions): Promise<PendingOutbox> {
  const findingId = newFindingId();
  const resourceKey = `i-${findingId.slice(0, 17)}`;
  await db.prisma.finding.create({
    data: {
      id: findingId,
      arn: `arn:aws:guardduty:${REGION}:${ACCOUNT_ID}:detector/d/finding/${findingId}`,
      accountId: ACCOUNT_ID,
      region: REGION,
      partition: "aws",
      type: "CryptoCurrency:Runtime/BitcoinTool.B!DNS",
      severity: 8,
      title: "test",
      resourceType: "Instance",
      resourceKey,
      count: 1,
      archived: false,
      sample: false,
      gdCreatedAt: new Date(),
      gdUpdatedAt: new Date(),
      raw: instanceFinding(),
    },
  });
  const remediationId = randomUUID();
  const jobId = jobIdFor("instance", findingId, resourceKey);
  await db.prisma.remediation.create({
    data: { id: remediationId, findingId, playbook: "instance", resourceKey, accountId: ACCOUNT_ID, region: REGION, mode: "auto", ruleName: "workload-high-critical", jobId },
  });
  const payload: RemediationJob = { remediationId, findingId, playbook: "instance", mode: "auto", accountId: ACCOUNT_ID, region: REGION, resourceKey, action: "contain" };
  await db.pool.query(
    `INSERT INTO outbox (remediation_id, queue, job_id, payload, created_at)
     VALUES ($1, $2, $3, $4, now() - ($5::int * interval '1 minute'))`,
    [remediationId, options.spoil?.queue ?? "instance", jobId, JSON.stringify({ ...payload, ...options.spoil?.payload }), options.ageMinutes],
  );
  return { remediationId, findingId, jobId, payload };
}
