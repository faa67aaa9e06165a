-- DropIndex
DROP INDEX "approvals_remediation_id_step_key";

-- CreateIndex
CREATE INDEX "approvals_remediation_id_step_idx" ON "approvals"("remediation_id", "step");

-- CreateIndex
CREATE UNIQUE INDEX "approvals_remediation_id_plan_hash_key" ON "approvals"("remediation_id", "plan_hash");

