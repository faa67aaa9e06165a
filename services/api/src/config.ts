import { z } from "zod";
import { commonFields, intInRange } from "@gdr/core/config/fields";
import { parseConfig } from "@gdr/core/config/parse";
import { TOPIC_ARN, webhookUrlProblem } from "@gdr/core/notify/index";

export const apiConfigSchema = z.object({
  ...commonFields,
  API_HOST: z.string().min(1).default("127.0.0.1"),
  API_PORT: intInRange(0, 65_535, 8080),
  /** Requests per minute per client address, for requests without a valid token (anonymous). */
  API_RATE_LIMIT_PER_MINUTE: intInRange(1, 100_000, 600),
  /**
   * Requests per minute per verified API token: a bucket of its own, so an anonymous flood from
   * the same address never locks out an approver or a probe that carries a token.
   */
  API_TOKEN_RATE_LIMIT_PER_MINUTE: intInRange(1, 100_000, 1_200),
  /**
   * Behind a reverse proxy or load balancer: `true` (trust every hop) or the proxies'
   * addresses/CIDRs (comma-separated). The client address then comes from X-Forwarded-For, for
   * the rate limit and the logs. Unset: the socket's peer address.
   */
  API_TRUST_PROXY: z
    .string()
    .regex(/^(true|false|[0-9a-fA-F.:/]+(,\s*[0-9a-fA-F.:/]+)*)$/, "must be true, false, or comma-separated proxy addresses/CIDRs")
    .default("false")
    .transform((v): boolean | string => (v === "true" ? true : v === "false" ? false : v)),
  /** Largest request body accepted, in bytes. */
  API_BODY_LIMIT_BYTES: intInRange(1_024, 10_485_760, 262_144),
  /**
   * Notification channels for what the API refuses (a decision in an account taken off the allow
   * list): the same variables, and meaning, as the worker's. The webhook URL is a secret.
   */
  NOTIFY_SLACK_WEBHOOK_URL: z
    .string()
    .superRefine((value, ctx) => {
      const problem = webhookUrlProblem(value);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
  NOTIFY_SNS_TOPIC_ARN: z.string().regex(TOPIC_ARN, "must be an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:gdr").optional(),
  /** The API's base URL as people reach it: notifications link to `${PUBLIC_URL}/ui/#<id>`. */
  PUBLIC_URL: z
    .string()
    .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), "must be an http(s) URL such as https://responder.example.com")
    .default("http://127.0.0.1:8080"),
  /**
   * Four-eyes: whoever requested a release or a retry may not approve the plan it leads to, and
   * whoever submitted a finding (POST /v1/findings) may not approve its destructive plans.
   */
  API_FOUR_EYES: z
    .enum(["true", "false", "1", "0"], { message: "must be true or false" })
    .default("false")
    .transform((v) => v === "true" || v === "1"),
});

export type ApiConfig = z.infer<typeof apiConfigSchema>;

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ApiConfig> {
  return parseConfig(apiConfigSchema, env);
}
