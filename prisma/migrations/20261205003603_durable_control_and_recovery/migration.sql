-- AlterEnum
ALTER TYPE "RemediationStatus" ADD VALUE 'escalated';

-- AlterTable
ALTER TABLE "ingest_receipts" ADD COLUMN     "submitted_by" TEXT;

-- AlterTable
ALTER TABLE "remediations" ADD COLUMN     "recoveries" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "stuck_notified_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "control_switches" (
    "name" TEXT NOT NULL,
    "on" BOOLEAN NOT NULL,
    "by" TEXT NOT NULL,
    "reason" TEXT,
    "since" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "control_switches_pkey" PRIMARY KEY ("name")
);


-- CreateIndex
CREATE INDEX "audit_events_action_at_idx" ON "audit_events"("action", "at");

-- CreateIndex
CREATE INDEX "remediations_stuck_notified_at_idx" ON "remediations"("stuck_notified_at");
