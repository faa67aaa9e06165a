/**
 * What happened to a remediation that a person should hear about. `stuck`: queued, running or
 * approved, and not moving for longer than the worker's bound. `cancelled`: stopped by a rule
 * before changing anything more (the account left the policy's allow list). `escalated`: stopped
 * before any change because a person must look (GuardDuty does not confirm the finding).
 * `refused`: a person's approve, retry or release was refused by a rule (the account left the
 * allow list); the remediation stays as it was. `exempt`: a medium-or-higher finding on a resource
 * exempted by the policy (ignored, no remediation) or tagged exempt (containment needs approval).
 */
export type NotificationKind = "awaiting_approval" | "succeeded" | "failed" | "expired" | "notified" | "stuck" | "cancelled" | "escalated" | "refused" | "exempt";

export interface NotificationEvent {
  kind: NotificationKind;
  /** Null when no remediation exists: a finding ignored because the policy exempts its resource. */
  remediationId: string | null;
  findingId: string;
  playbook: string;
  resourceKey: string;
  accountId: string;
  region: string;
  mode: string;
  /** A short human-readable note (an error code, the action); never a secret. */
  detail?: string;
  /** Where a person looks at (and for approvals, decides on) the remediation. */
  link: string;
}

/**
 * Tells people about a remediation. `notify` returns at once and never throws: delivery happens in
 * the background, so a slow or broken channel can never hold up or fail a remediation.
 */
export interface Notifier {
  notify(event: NotificationEvent): void;
}

/** The link to a remediation's page in the UI (the approval page when it awaits a decision). */
export function remediationLink(publicUrl: string, remediationId: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/ui/#${encodeURIComponent(remediationId)}`;
}

/** The remediation fields every notification carries (a Prisma row and the engine's ref both have them). */
export interface NotifiedRemediation {
  id: string;
  findingId: string;
  playbook: string;
  resourceKey: string;
  accountId: string;
  region: string;
  mode: string;
}

/** The event for one remediation, linking to its page under `publicUrl`. */
export function remediationEvent(kind: NotificationKind, r: NotifiedRemediation, publicUrl: string, detail?: string): NotificationEvent {
  return {
    kind,
    remediationId: r.id,
    findingId: r.findingId,
    playbook: r.playbook,
    resourceKey: r.resourceKey,
    accountId: r.accountId,
    region: r.region,
    mode: r.mode,
    ...(detail === undefined ? {} : { detail }),
    link: remediationLink(publicUrl, r.id),
  };
}

/** The finding fields an event about a finding without a remediation carries. */
export interface NotifiedFinding {
  id: string;
  accountId: string;
  region: string;
  resourceKey: string | null;
}

/** The event for a finding no remediation exists for; it links to the finding in the API. */
export function findingEvent(kind: NotificationKind, f: NotifiedFinding, publicUrl: string, detail?: string): NotificationEvent {
  return {
    kind,
    remediationId: null,
    findingId: f.id,
    playbook: "none",
    resourceKey: f.resourceKey ?? "none",
    accountId: f.accountId,
    region: f.region,
    mode: "ignore",
    ...(detail === undefined ? {} : { detail }),
    link: `${publicUrl.replace(/\/+$/, "")}/v1/findings/${encodeURIComponent(f.id)}`,
  };
}
