/** What happened to a remediation that a person should hear about. */
export type NotificationKind = "awaiting_approval" | "succeeded" | "failed" | "expired" | "notified";

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
