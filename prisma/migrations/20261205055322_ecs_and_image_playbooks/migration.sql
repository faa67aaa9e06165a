-- AlterTable
ALTER TABLE "remediations" ADD COLUMN     "parent_id" UUID;

-- CreateIndex
CREATE INDEX "remediations_parent_id_idx" ON "remediations"("parent_id");

-- AddForeignKey
ALTER TABLE "remediations" ADD CONSTRAINT "remediations_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "remediations"("id") ON DELETE SET NULL ON UPDATE CASCADE;

