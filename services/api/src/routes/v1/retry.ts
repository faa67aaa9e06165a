import { RemediationStatus } from "@gdr/core/db/client";
import { jobIdWith } from "@gdr/core/queues/job-ids";
import { jobFor } from "@gdr/core/approvals/decide";
import { dispatchForRemediations, outboxEntry, reportSetAside, setAsideFor } from "@gdr/core/queues/outbox";
import type { RemediationJobSource } from "@gdr/core/queues/remediation-job";
import type { FastifyPluginCallbackZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { requireRole } from "../../plugins/auth.js";
import { errorBody, HttpError } from "../../plugins/errors.js";
import { refuseOutsideAllowList } from "./account-guard.js";
import { freeText, uuidParam } from "./schemas.js";

const retryResponse = z.object({ remediationId: z.string(), steps: z.array(z.string()), jobId: z.string() });

interface Locked extends RemediationJobSource {
  status: RemediationStatus;
  job_id: string;
}

/** Statuses a retry resumes from: failed for good, or stopped for a person to look (escalated). */
const RETRYABLE: ReadonlySet<RemediationStatus> = new Set([RemediationStatus.failed, RemediationStatus.escalated]);

/**
 * Retry of a failed or escalated remediation (escalated: stopped before any change because a
 * person had to look, e.g. GuardDuty did not confirm the finding; the person retries once resolved). In one transaction: the failed step rows go back to pending (the
 * succeeded ones stay, so the job resumes where it stopped), the remediation back to queued, an
 * audit event with the actor, and the outbox row of a fresh `contain` job; the job is enqueued
 * after commit. The job id carries a retry number, or BullMQ would treat it as the failed job it
 * still holds. A step that needs approval asks again: the world may have changed since it failed.
 */
export function retryRoutes(deps: ApiDeps): FastifyPluginCallbackZod {
  return (app, _options, done) => {
    app.post(
      "/remediations/:id/retry",
      {
        onRequest: requireRole(deps.prisma, "approver"),
        schema: {
          summary: "Run a failed or escalated remediation again from where it stopped",
          params: uuidParam,
          body: z.object({ reason: freeText(3, 2_000) }),
          response: { 200: retryResponse, 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody, 422: errorBody },
        },
      },
      async (request) => {
        const actor = `token:${request.identity?.name ?? "?"}`;
        const remediationId = request.params.id;
        await refuseOutsideAllowList(deps, remediationId, "retry", actor);
        const result = await deps.prisma.$transaction(async (tx) => {
          const rows = await tx.$queryRaw<Locked[]>`
            SELECT id::text AS id, status::text AS status, playbook, finding_id AS "findingId", resource_key AS "resourceKey",
                   account_id AS "accountId", region, mode::text AS mode, job_id
              FROM remediations WHERE id = ${remediationId}::uuid FOR UPDATE`;
          const r = rows[0];
          if (!r) throw new HttpError(404, "not_found", `no remediation ${remediationId}`);
          if (!RETRYABLE.has(r.status)) throw new HttpError(409, "not_failed", `only a failed or escalated remediation can be retried; it is ${r.status}`);
          // Before anything is reset: a retry rebuilds the job from the row, and a row that makes
          // no valid job would only be set aside again (422, never a thrown ZodError's 500).
          const built = jobFor(r, "contain");
          if (!built.ok) throw new HttpError(422, "unqueueable", built.message);

          const reset = await tx.$queryRaw<{ name: string }[]>`
            UPDATE remediation_steps
               SET status = 'pending', finished_at = NULL, error_class = NULL, error_code = NULL, error_message = NULL
             WHERE remediation_id = ${r.id}::uuid AND status = 'failed'
         RETURNING name`;
          // The frozen plan goes: an approval of it must not carry the retried job on (the
          // reconciler resumes an approved plan as its continuation), so whatever needs approval
          // is frozen and asked again. The approvals rows and audit events keep the history. The
          // recovery count starts over: the retry is a fresh run, not the lost job's next recovery.
          await tx.$executeRaw`
            UPDATE remediations
               SET status = 'queued', error = NULL, finished_at = NULL, plan = NULL, plan_hash = NULL, recoveries = 0, updated_at = now()
             WHERE id = ${r.id}::uuid`;
          const previous = await tx.auditEvent.count({ where: { remediationId: r.id, action: "remediation.retried" } });
          const job = built.job;
          const jobId = jobIdWith(r.job_id, { kind: "retry", n: previous + 1 });
          const steps = reset.map((s) => s.name);
          await tx.outboxEntry.create({ data: outboxEntry(job, jobId) });
          await tx.auditEvent.create({
            data: { actor, action: "remediation.retried", findingId: r.findingId, remediationId: r.id, detail: { reason: request.body.reason, from: r.status, steps, jobId } },
          });
          return { remediationId: r.id, steps, jobId };
        });
        const dispatched = await dispatchForRemediations(deps.prisma, deps.queues, [remediationId]);
        await reportSetAside(deps.prisma, { logger: request.log, notifier: deps.notifier, publicUrl: deps.publicUrl }, dispatched.setAside);
        const aside = setAsideFor(dispatched, remediationId);
        if (aside) {
          const left = aside.remediationFailed ? "the remediation failed again" : "the remediation is unchanged";
          throw new HttpError(422, "set_aside", `retried, but its job could not be queued: ${aside.reason}; ${left}`);
        }
        return result;
      },
    );
    done();
  };
}
