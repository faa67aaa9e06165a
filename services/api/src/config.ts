import { z } from "zod";
import { commonFields, intInRange } from "@gdr/core/config/fields";
import { parseConfig } from "@gdr/core/config/parse";

export const apiConfigSchema = z.object({
  ...commonFields,
  API_HOST: z.string().min(1).default("127.0.0.1"),
  API_PORT: intInRange(0, 65_535, 8080),
  /** Requests per minute per client address. */
  API_RATE_LIMIT_PER_MINUTE: intInRange(1, 100_000, 600),
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
  /** Four-eyes: whoever requested a release may not approve it. */
  API_FOUR_EYES: z
    .enum(["true", "false", "1", "0"], { message: "must be true or false" })
    .default("false")
    .transform((v) => v === "true" || v === "1"),
});

export type ApiConfig = z.infer<typeof apiConfigSchema>;

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ApiConfig> {
  return parseConfig(apiConfigSchema, env);
}
