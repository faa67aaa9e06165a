import type { PrismaClient } from "@prisma/client";
import { planAction } from "./plan-fields.js";

/**
 * Four-eyes for releases: who asked for the release plan the remediation now waits on (the actor
 * of its latest `release.requested` audit event), so that actor can be kept from approving it.
 * Containment plans are frozen by the worker (the system asked for them), so there is nobody to
 * compare with and this answers undefined; so it does for a remediation not waiting on a release.
 */
export async function releaseRequester(prisma: Pick<PrismaClient, "remediation" | "auditEvent">, remediationId: string): Promise<string | undefined> {
  const r = await prisma.remediation.findUnique({ where: { id: remediationId }, select: { status: true, plan: true } });
  if (r?.status !== "awaiting_approval") return undefined;
  if (planAction(r.plan) !== "release") return undefined;
  const requested = await prisma.auditEvent.findFirst({
    where: { remediationId, action: "release.requested" },
    orderBy: { id: "desc" },
    select: { actor: true },
  });
  return requested?.actor;
}
