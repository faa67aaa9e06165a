import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.js";
import { browserGate } from "./browser-gate.js";
import { addPageCsp } from "./csp.js";

export const DASHBOARD_PATH = "/admin/queues";

/**
 * Decision: the dashboard sits behind the browser gate (HTTP Basic with an admin API token as the
 * password, or a bearer token) on every request under the prefix: entry page, static assets and
 * bull-board's JSON API alike. The queues are mounted read-only: a failed remediation is retried
 * through POST /v1/remediations/:id/retry, which keeps Postgres (the record) and BullMQ in step.
 * bull-board at /admin/queues shows every playbook queue.
 */
export async function registerDashboard(app: FastifyInstance, deps: Pick<ApiDeps, "prisma" | "queues">): Promise<void> {
  // An encapsulated scope: the gate and bull-board's own error handler apply to its routes only.
  await app.register(async (scope) => {
    scope.addHook("onRequest", browserGate(deps, { role: "admin", realm: "guardduty-responder queues", what: "the queue dashboard" }));
    addPageCsp(scope);
    // Nothing behind the gate may be kept by a shared cache and served to someone without a token
    // (@fastify/static would answer assets `public`).
    scope.addHook("onSend", async (_request, reply, payload) => {
      reply.header("cache-control", "no-store");
      return payload;
    });
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(DASHBOARD_PATH);
    createBullBoard({
      queues: [...deps.queues.values()].map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
      serverAdapter,
      options: { uiConfig: { boardTitle: "GuardDuty Responder" } },
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
  });
}
