import { z } from "zod";
import { webhookUrlProblem } from "./slack.js";
import { TOPIC_ARN } from "./sns.js";

/**
 * The environment fields of the notification channels, for every service that tells people
 * something (the worker about remediations, ingest about exemptions and version conflicts).
 */
export const notifyFields = {
  /** A Slack incoming webhook (a secret: its URL carries the token; never logged). */
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
};
