// What identify recorded about the credentials, read back through its schema by every later step
// (contain, verify, release): stored data is checked again before any of it reaches IAM.
import { ACCESS_KEY_ID, IAM_NAME } from "@gdr/core/findings/patterns";
import { z } from "zod";
import { parseOutput, type StepContext } from "../kit/index.js";
import { STEP } from "./names.js";

const accessKeyId = z.string().regex(ACCESS_KEY_ID.regex, ACCESS_KEY_ID.label);
const iamName = z.string().regex(IAM_NAME.regex, IAM_NAME.label);

/** Policies of the principal, as evidence: what the credentials could do. */
const policies = z.object({
  attached: z.array(z.string()),
  inline: z.array(z.string()),
  /** True when a list stopped at the cap: the evidence is not all there. */
  truncated: z.boolean(),
});

/** An IAM user's long-term access key (AKIA…). */
export const userKeySchema = z.object({
  kind: z.literal("user-key"),
  accessKeyId,
  userName: iamName,
  /** The key's status before anything changed: release reactivates only a key that was Active. */
  statusBefore: z.enum(["Active", "Inactive"]),
  lastUsed: z.object({ date: z.string().nullable(), serviceName: z.string().nullable(), region: z.string().nullable() }),
  policies,
});

/** Temporary credentials (ASIA…) of a session of an assumed role. */
export const roleSessionsSchema = z.object({
  kind: z.literal("role-sessions"),
  accessKeyId,
  roleName: iamName,
  roleId: z.string(),
  roleArn: z.string(),
  sessionName: z.string().nullable(),
  /** What revoking does, in words: every session of the role issued before the cutoff ends. */
  effect: z.string(),
  policies,
});

export const principalSchema = z.discriminatedUnion("kind", [userKeySchema, roleSessionsSchema]);
export type Principal = z.infer<typeof principalSchema>;
export type UserKey = z.infer<typeof userKeySchema>;
export type RoleSessions = z.infer<typeof roleSessionsSchema>;

/** identify's recorded output, checked. */
export function principalOf(ctx: Pick<StepContext, "outputs">): Principal {
  return parseOutput(principalSchema, ctx.outputs.get(STEP.identify), "identify's output");
}

/** The output of a contain or release step that does not apply to these credentials. */
export const notApplicableSchema = z.object({ applies: z.literal(false), reason: z.string() });

export function notApplicable(principal: Principal, what: string): { applies: false; reason: string } {
  const of = principal.kind === "user-key" ? `user ${principal.userName}'s access key` : `sessions of role ${principal.roleName}`;
  return { applies: false, reason: `the credentials are ${of}: ${what}` };
}

/** A check's answer for a step that does not fit these credentials: done, and recorded as not applying. */
export function doesNotApply(principal: Principal, what: string): { done: true; output: { applies: false; reason: string }; note: string } {
  const output = notApplicable(principal, what);
  return { done: true, output, note: `does not apply: ${output.reason}` };
}
