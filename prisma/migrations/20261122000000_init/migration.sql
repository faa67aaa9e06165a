-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "ReceiptOutcome" AS ENUM ('accepted', 'duplicate', 'ignored', 'rejected');

-- CreateEnum
CREATE TYPE "RemediationMode" AS ENUM ('auto', 'approval', 'dry_run', 'notify');

-- CreateEnum
CREATE TYPE "RemediationStatus" AS ENUM ('queued', 'running', 'awaiting_approval', 'succeeded', 'failed', 'dry_run', 'notified', 'skipped', 'rejected', 'expired', 'cancelled');

-- CreateEnum
CREATE TYPE "StepStatus" AS ENUM ('pending', 'running', 'succeeded', 'skipped', 'failed', 'awaiting_approval');

-- CreateEnum
CREATE TYPE "ApprovalDecision" AS ENUM ('approved', 'rejected', 'expired');

-- CreateEnum
CREATE TYPE "ApiRole" AS ENUM ('viewer', 'approver', 'admin');

-- CreateTable
CREATE TABLE "findings" (
    "id" TEXT NOT NULL,
    "arn" TEXT NOT NULL,
    "account_id" TEXT NOT NULL,
    "region" TEXT NOT NULL,
    "partition" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "severity" DECIMAL(3,1) NOT NULL,
    "title" TEXT NOT NULL,
    "resource_type" TEXT NOT NULL,
    "resource_key" TEXT,
    "count" INTEGER NOT NULL,
    "archived" BOOLEAN NOT NULL,
    "sample" BOOLEAN NOT NULL,
    "gd_created_at" TIMESTAMPTZ(3) NOT NULL,
    "gd_updated_at" TIMESTAMPTZ(3) NOT NULL,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "raw" JSONB NOT NULL,

    CONSTRAINT "findings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ingest_receipts" (
    "id" BIGSERIAL NOT NULL,
    "sqs_message_id" TEXT NOT NULL,
    "body_sha256" CHAR(64) NOT NULL,
    "body_bytes" INTEGER NOT NULL,
    "outcome" "ReceiptOutcome" NOT NULL,
    "reason" TEXT NOT NULL,
    "detail" TEXT,
    "finding_id" TEXT,
    "finding_count" INTEGER,
    "finding_updated_at" TIMESTAMPTZ(3),
    "rejected_body" BYTEA,
    "deliveries" INTEGER NOT NULL DEFAULT 1,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ingest_receipts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "remediations" (
    "id" UUID NOT NULL,
    "finding_id" TEXT NOT NULL,
    "playbook" TEXT NOT NULL,
    "resource_key" TEXT NOT NULL,
    "account_id" TEXT NOT NULL,
    "region" TEXT NOT NULL,
    "mode" "RemediationMode" NOT NULL,
    "status" "RemediationStatus" NOT NULL DEFAULT 'queued',
    "rule_name" TEXT NOT NULL,
    "job_id" TEXT NOT NULL,
    "plan" JSONB,
    "plan_hash" TEXT,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "remediations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "remediation_steps" (
    "id" BIGSERIAL NOT NULL,
    "remediation_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "order" INTEGER NOT NULL,
    "status" "StepStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "output" JSONB,
    "pre_state" JSONB,
    "error_class" TEXT,
    "error_code" TEXT,
    "error_message" TEXT,

    CONSTRAINT "remediation_steps_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "approvals" (
    "id" UUID NOT NULL,
    "remediation_id" UUID NOT NULL,
    "step" TEXT NOT NULL,
    "decision" "ApprovalDecision" NOT NULL,
    "actor" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "plan_hash" TEXT NOT NULL,
    "decided_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3),

    CONSTRAINT "approvals_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "finding_id" TEXT,
    "remediation_id" UUID,
    "aws_request_ids" TEXT[],
    "detail" JSONB,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "role" "ApiRole" NOT NULL,
    "token_hash" CHAR(64) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox" (
    "id" BIGSERIAL NOT NULL,
    "remediation_id" UUID NOT NULL,
    "queue" TEXT NOT NULL,
    "job_id" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "dispatched_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "findings_account_id_gd_updated_at_idx" ON "findings"("account_id", "gd_updated_at");

-- CreateIndex
CREATE INDEX "findings_type_idx" ON "findings"("type");

-- CreateIndex
CREATE INDEX "findings_resource_type_resource_key_idx" ON "findings"("resource_type", "resource_key");

-- CreateIndex
CREATE UNIQUE INDEX "ingest_receipts_sqs_message_id_key" ON "ingest_receipts"("sqs_message_id");

-- CreateIndex
CREATE INDEX "ingest_receipts_outcome_received_at_idx" ON "ingest_receipts"("outcome", "received_at");

-- CreateIndex
CREATE INDEX "ingest_receipts_finding_id_idx" ON "ingest_receipts"("finding_id");

-- CreateIndex
CREATE INDEX "remediations_status_created_at_idx" ON "remediations"("status", "created_at");

-- CreateIndex
CREATE INDEX "remediations_resource_key_idx" ON "remediations"("resource_key");

-- CreateIndex
CREATE UNIQUE INDEX "remediations_finding_id_playbook_resource_key_key" ON "remediations"("finding_id", "playbook", "resource_key");

-- CreateIndex
CREATE UNIQUE INDEX "remediation_steps_remediation_id_name_key" ON "remediation_steps"("remediation_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "approvals_remediation_id_step_key" ON "approvals"("remediation_id", "step");

-- CreateIndex
CREATE INDEX "audit_events_finding_id_idx" ON "audit_events"("finding_id");

-- CreateIndex
CREATE INDEX "audit_events_remediation_id_idx" ON "audit_events"("remediation_id");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_name_key" ON "api_tokens"("name");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens"("token_hash");

-- CreateIndex
CREATE UNIQUE INDEX "outbox_job_id_key" ON "outbox"("job_id");

-- AddForeignKey
ALTER TABLE "ingest_receipts" ADD CONSTRAINT "ingest_receipts_finding_id_fkey" FOREIGN KEY ("finding_id") REFERENCES "findings"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "remediations" ADD CONSTRAINT "remediations_finding_id_fkey" FOREIGN KEY ("finding_id") REFERENCES "findings"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "remediation_steps" ADD CONSTRAINT "remediation_steps_remediation_id_fkey" FOREIGN KEY ("remediation_id") REFERENCES "remediations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_remediation_id_fkey" FOREIGN KEY ("remediation_id") REFERENCES "remediations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_remediation_id_fkey" FOREIGN KEY ("remediation_id") REFERENCES "remediations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written additions (Prisma's schema language cannot express them).

-- The outbox relay only ever looks for rows not yet dispatched, so keep that index small.
CREATE INDEX "outbox_pending_idx" ON "outbox" ("created_at") WHERE "dispatched_at" IS NULL;

-- The audit log is append-only, refusing updates and deletes at the database, not just in code.
-- Prisma's migration runner splits scripts at every semicolon, even inside dollar quotes, so the
-- function body is an E-string whose semicolons are written as the octal escape \073.
CREATE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN RAISE EXCEPTION ''audit_events is append-only (% refused)'', TG_OP\073 END\073';
CREATE TRIGGER "audit_events_append_only"
  BEFORE UPDATE OR DELETE ON "audit_events"
  FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"();
