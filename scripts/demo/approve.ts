import { frozenPlanSchema } from "@gdr/core/approvals/plan";
import { createToken } from "@gdr/core/auth/tokens";
import type { PrismaClient } from "@gdr/core/db/client";
import { z } from "zod";
import { waitUntil } from "../../test/support/index.js";

// Only the fields the demo reads; the API's own schemas (services/api/src/routes/v1/schemas.ts)
// say the rest. Parsing them checks that the API answers what an approver's tooling relies on:
// a remediation awaiting approval carries a frozen plan of core's one plan type.
const summary = z.object({ id: z.string(), resourceKey: z.string(), status: z.string() });
const page = z.object({ items: z.array(summary) });
const detail = summary.extend({
  planHash: z.string().nullable(),
  plan: frozenPlanSchema.nullable(),
});
const decision = z.object({ remediationId: z.string(), step: z.string(), jobId: z.string().optional() });

/** Statuses in which a remediation may still change without a person doing anything more. */
const UNSETTLED = new Set(["queued", "running", "awaiting_approval"]);

export interface ApprovalOutcome {
  remediationId: string;
  resourceKey: string;
  /** The remediation's status once it settled after the approval, or why it was not approved. */
  status: string;
  ok: boolean;
}

/**
 * What an on-call engineer does with the approval gate, over real HTTP with an approver token of
 * their own: list the remediations of these playbooks waiting, read each frozen plan, approve it by
 * its hash, and follow it until it has run. Only playbooks whose effect the demo checks in moto
 * are taken; the resources in `leave` stay waiting (the report shows them waiting).
 */
export async function approvePending(prisma: PrismaClient, baseUrl: string, playbooks: readonly string[], leave: readonly string[] = []): Promise<ApprovalOutcome[]> {
  const { token, identity } = await createToken(prisma, `demo-approver-${Date.now()}`, "approver");
  const api = client(baseUrl, token);
  console.log(`\napprovals, through the API with approver token "${identity.name}":`);
  const waiting: z.infer<typeof summary>[] = [];
  for (const playbook of playbooks) {
    const list = `/v1/remediations?status=awaiting_approval&playbook=${encodeURIComponent(playbook)}`;
    const items = (await api.get(page, list)).items;
    const left = items.filter((i) => leave.includes(i.resourceKey));
    console.log(`  GET ${list}: ${items.length} waiting${left.length > 0 ? `, ${left.map((i) => i.resourceKey).join(", ")} left waiting` : ""}`);
    waiting.push(...items.filter((i) => !leave.includes(i.resourceKey)));
  }
  const outcomes: ApprovalOutcome[] = [];
  for (const item of waiting) {
    try {
      outcomes.push(await approveAndFollow(api, item.id));
    } catch (err) {
      // Reported, not thrown: the audit store and moto reports still print, then the demo fails.
      const message = err instanceof Error ? err.message : String(err);
      console.log(`  ${item.resourceKey}: ${message}`);
      outcomes.push({ remediationId: item.id, resourceKey: item.resourceKey, status: message, ok: false });
    }
  }
  return outcomes;
}

async function approveAndFollow(api: Client, id: string): Promise<ApprovalOutcome> {
  const path = `/v1/remediations/${id}`;
  const r = await api.get(detail, path);
  if (!r.planHash || !r.plan) throw new Error("awaiting approval without a frozen plan");
  const calls = r.plan.steps.reduce((n, s) => n + s.calls.length, 0);
  const answer = await api.post(decision, `${path}/approve`, { reason: "demo: plan reviewed", planHash: r.planHash });
  console.log(
    `  ${r.resourceKey}: ${calls} AWS calls planned in ${r.plan.steps.length} steps (plan hash ${r.planHash.slice(0, 12)}…); ` +
      `approve answered ${answer.status}, the plan runs from step ${answer.body.step}`,
  );
  // The approval enqueued the continuation; the worker moves the remediation on from there.
  let status = r.status;
  await waitUntil(
    async () => {
      status = (await api.get(summary, path)).status;
      return !UNSETTLED.has(status);
    },
    // 250 ms apart keeps well under the API's rate limit (600 a minute per client address by default).
    { attempts: 480, intervalMs: 250, what: `remediation ${id} (${r.resourceKey}) to run after its approval` },
  );
  console.log(`  ${r.resourceKey}: remediation ${status}`);
  return { remediationId: id, resourceKey: r.resourceKey, status, ok: status === "succeeded" };
}

interface Client {
  get<T>(schema: z.ZodType<T>, path: string): Promise<T>;
  post<T>(schema: z.ZodType<T>, path: string, body: object): Promise<{ status: number; body: T }>;
}

/** JSON over HTTP with a bearer token; any answer but 2xx is an error carrying the API's body. */
function client(baseUrl: string, token: string): Client {
  const send = async <T>(schema: z.ZodType<T>, method: "GET" | "POST", path: string, body?: object): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return { status: res.status, body: schema.parse(JSON.parse(text)) };
  };
  return { get: async (schema, path) => (await send(schema, "GET", path)).body, post: (schema, path, body) => send(schema, "POST", path, body) };
}
