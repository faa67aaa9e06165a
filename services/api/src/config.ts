import { z } from "zod";
import { commonFields, intInRange } from "@gdr/core/config/fields";
import { parseConfig } from "@gdr/core/config/parse";
import { notifyFields } from "@gdr/core/notify/fields";

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
   * Notification channels (for what the API refuses: a decision in an account taken off the allow
   * list): the same variables, and meaning, as the worker's and ingest's.
   */
  ...notifyFields,
  /**
   * Four-eyes: whoever requested a release may not approve it, and whoever submitted a finding
   * (POST /v1/findings) or requested a retry may not approve a destructive plan it led to.
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
