import { DeliveryError, type Sender } from "./errors.js";
import type { NotificationEvent } from "./event.js";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Why a webhook URL is unfit, or null when it is fine: https only (plain http only to this
 * machine, for tests), no credentials, no fragment. The URL itself is a secret (Slack's carry a
 * token), so the reason never repeats it.
 */
export function webhookUrlProblem(value: string): string | null {
  if (value.length > 2048 || /\s/.test(value)) return "must be a URL without spaces, at most 2048 characters";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be a URL such as https://hooks.slack.com/services/…";
  }
  if (url.username || url.password) return "must not carry credentials";
  if (url.hash) return "must not have a #fragment";
  if (url.protocol === "https:" && url.hostname !== "") return null;
  if (url.protocol === "http:" && LOOPBACK.has(url.hostname)) return null;
  return "must start with https:// (plain http only to 127.0.0.1 or localhost)";
}

export interface SlackSenderOptions {
  webhookUrl: string;
  /** Per attempt. */
  timeoutMs?: number;
}

/** Slack's mrkdwn: these three must be escaped in user text. */
function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const HEADLINE: Record<NotificationEvent["kind"], string> = {
  awaiting_approval: "Remediation awaiting approval",
  succeeded: "Remediation succeeded",
  failed: "Remediation failed",
  expired: "Approval expired",
  notified: "GuardDuty finding (notify mode: no action taken)",
  stuck: "Remediation stuck",
  cancelled: "Remediation cancelled",
  escalated: "Remediation escalated: a person must look",
  refused: "Decision refused",
  exempt: "Exempt resource: a person should look",
};

export function slackMessage(event: NotificationEvent): Record<string, unknown> {
  const text = `${HEADLINE[event.kind]}: ${event.playbook} on ${event.resourceKey} (${event.accountId}/${event.region})`;
  const fields = [
    `*Resource*\n${escape(event.resourceKey)}`,
    `*Account / region*\n${escape(event.accountId)} / ${escape(event.region)}`,
    `*Playbook / mode*\n${escape(event.playbook)} / ${escape(event.mode)}`,
    `*Finding*\n${escape(event.findingId)}`,
  ];
  return {
    text,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*${escape(HEADLINE[event.kind])}*${event.detail ? `\n${escape(event.detail)}` : ""}` } },
      { type: "section", fields: fields.map((f) => ({ type: "mrkdwn", text: f })) },
      {
        type: "actions",
        elements: [
          {
            type: "button",
            text: { type: "plain_text", text: event.kind === "awaiting_approval" ? "Review and decide" : "Open" },
            url: event.link,
          },
        ],
      },
    ],
  };
}

function retryAfterMs(header: string | null): number | undefined {
  const seconds = header === null ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 300) * 1000 : undefined;
}

/** Posts to a Slack incoming webhook. Error messages name the status or the network error only. */
export function createSlackSender(options: SlackSenderOptions): Sender {
  const problem = webhookUrlProblem(options.webhookUrl);
  if (problem) throw new Error(`Slack webhook URL ${problem}`);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    channel: "slack",
    async send(event, signal) {
      let res: Response;
      try {
        res = await fetch(options.webhookUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(slackMessage(event)),
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
          redirect: "error",
        });
      } catch (err) {
        // fetch's errors can name the URL; keep only the error's class and its cause's code.
        const cause = err instanceof Error && err.cause && typeof err.cause === "object" && "code" in err.cause ? String(err.cause.code) : undefined;
        const name = err instanceof Error ? err.name : "Error";
        throw new DeliveryError(`network error: ${name}${cause ? ` (${cause})` : ""}`, true);
      }
      await res.body?.cancel();
      if (res.ok) return;
      const retryable = res.status === 429 || res.status >= 500;
      throw new DeliveryError(`HTTP ${res.status}`, retryable, retryAfterMs(res.headers.get("retry-after")));
    },
  };
}
