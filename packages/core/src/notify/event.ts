/**
 * What happened to a remediation that a person should hear about. `stuck`: queued, running or
 * approved, and not moving for longer than the worker's bound.
 */
export type NotificationKind = "awaiting_approval" | "succeeded" | "failed" | "expired" | "notified" | "stuck";

export interface NotificationEvent {
  kind: NotificationKind;
  remediationId: string;
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
