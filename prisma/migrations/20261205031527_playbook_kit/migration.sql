-- Step outcomes that say what really happened: a step that could not do its work (unavailable)
-- and a checking step that found everything in place (verified), instead of succeeded / skipped.
ALTER TYPE "StepStatus" ADD VALUE 'unavailable';
ALTER TYPE "StepStatus" ADD VALUE 'verified';

-- When a remediation's containment was done, per playbook (the worker sets it). Until now only
-- the Instance playbook contained, by its step "isolate": rows it contained are backfilled from
-- that step's record. A dry run's rows record "skipped" steps too, with nothing done: left out.
ALTER TABLE "remediations" ADD COLUMN "contained_at" TIMESTAMPTZ(3);

UPDATE "remediations" r
   SET "contained_at" = COALESCE(s."finished_at", s."started_at", r."updated_at")
  FROM "remediation_steps" s
 WHERE s."remediation_id" = r."id" AND s."name" = 'isolate' AND s."status" IN ('succeeded', 'skipped')
   AND r."mode" <> 'dry_run' AND (s."output" IS NULL OR s."output"->>'dryRun' IS NULL)
