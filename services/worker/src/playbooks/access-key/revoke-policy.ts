// The deny-all policy that ends a role's sessions issued before a cutoff: what IAM's console does
// with "Revoke active sessions" (the AWSRevokeOlderSessions inline policy, IAM User Guide,
// "Revoke IAM role temporary security credentials"). `aws:TokenIssueTime` is when the session's
// credentials were issued; DateLessThan is strict, so a session issued at or after the cutoff
// (the workload assuming the role again) is not denied, and every session issued before is, for
// every action, whoever holds it: every instance, task or person using the role.
import type { StepContext } from "../kit/index.js";

/** In the policy itself, so that anyone reading the role's policies sees what it is for. */
export const REVOKE_SID = "GuardDutyResponderRevokeSessionsIssuedBeforeCutoff";

/**
 * What the plan shows for the cutoff before act runs: the cutoff is the time the change is made,
 * which an approver cannot know yet.
 */
export const CUTOFF_PLACEHOLDER = "(the time this step runs)";

/**
 * What the revocation does, in words, for the plan and the record. It does not end the source:
 * whoever can still get credentials for the role (from an instance profile, a CI secret that
 * assumes it) gets new sessions after the cutoff, the attacker included. `instance` is the
 * instance whose profile issued the session (session-source.ts), or null.
 */
export function revokeEffect(roleName: string, instance: string | null): string {
  const source =
    instance === null
      ? "so the source must be contained too"
      : `these credentials come from ${instance === "an instance" ? "an instance's instance profile" : `instance ${instance}'s instance profile`}: ` +
        "the instance's own remediation (isolating it) is what cuts the source, and must be done too";
  return (
    `every session of role ${roleName} issued before the cutoff is denied every action: ` +
    "every instance, task, function or person using the role is affected until it assumes the role again. " +
    "Sessions issued after the cutoff work, including the attacker's if they can still get credentials at the source " +
    `(an instance profile, a CI secret): ${source}`
  );
}

const ISO_SECONDS = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/;

/**
 * The cutoff for a revocation made at `now`: the next whole second (IAM compares to the second in
 * its examples, and rounding down would spare a session issued earlier in the same second).
 */
export function cutoffAt(now: Date): string {
  const ms = now.getTime();
  const up = Math.ceil(ms / 1000) * 1000;
  return new Date(up).toISOString().replace(/\.000Z$/, "Z");
}

/** The cutoff act uses: now in act mode, the placeholder when the step is planned or dry-run. */
export function cutoffFor(ctx: Pick<StepContext, "mode">, now: () => Date = () => new Date()): string {
  return ctx.mode === "act" ? cutoffAt(now()) : CUTOFF_PLACEHOLDER;
}

export interface RevokeDocument {
  Version: "2012-10-17";
  Statement: [
    {
      Sid: typeof REVOKE_SID;
      Effect: "Deny";
      Action: "*";
      Resource: "*";
      Condition: { DateLessThan: { "aws:TokenIssueTime": string } };
    },
  ];
}

export function revokeDocument(cutoff: string): RevokeDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: REVOKE_SID,
        Effect: "Deny",
        Action: "*",
        Resource: "*",
        Condition: { DateLessThan: { "aws:TokenIssueTime": cutoff } },
      },
    ],
  };
}

/** The document as PutRolePolicy sends it (and as the plan shows it). */
export function revokeDocumentText(cutoff: string): string {
  return JSON.stringify(revokeDocument(cutoff));
}

/**
 * IAM answers GetRolePolicy with the document URL-encoded (RFC 3986); the SDK does not decode it.
 * A document that is plain JSON already (moto answers so) is read as it is.
 */
export function decodePolicyDocument(text: string): unknown {
  const trimmed = text.trim();
  const json = trimmed.startsWith("{") ? trimmed : decodeURIComponent(trimmed);
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The cutoff of a document this playbook wrote, or null when the document is anything else: the
 * exact shape revokeDocument builds (one statement, our Sid, deny all, one condition), nothing
 * more and nothing less. Release deletes a policy only when this reads a cutoff from it.
 */
export function revokeCutoffOf(document: unknown): string | null {
  if (!isObject(document) || !sameKeys(document, ["Version", "Statement"]) || document["Version"] !== "2012-10-17") return null;
  const statements = document["Statement"];
  const statement = Array.isArray(statements) && statements.length === 1 ? (statements[0] as unknown) : statements;
  if (!isObject(statement) || !sameKeys(statement, ["Sid", "Effect", "Action", "Resource", "Condition"])) return null;
  if (statement["Sid"] !== REVOKE_SID || statement["Effect"] !== "Deny" || statement["Action"] !== "*" || statement["Resource"] !== "*") return null;
  const condition = statement["Condition"];
  if (!isObject(condition) || !sameKeys(condition, ["DateLessThan"])) return null;
  const dateLessThan = condition["DateLessThan"];
  if (!isObject(dateLessThan) || !sameKeys(dateLessThan, ["aws:TokenIssueTime"])) return null;
  const cutoff = dateLessThan["aws:TokenIssueTime"];
  return typeof cutoff === "string" && ISO_SECONDS.test(cutoff) ? cutoff : null;
}

/**
 * Whether a session issued at `issuedAt` is denied by a revocation with this cutoff, as IAM
 * evaluates DateLessThan on aws:TokenIssueTime. moto does not enforce the condition (MOTO.md), so
 * this is how the semantics are pinned down in tests and said in the record.
 */
export function endsSessionIssuedAt(cutoff: string, issuedAt: Date): boolean {
  if (!ISO_SECONDS.test(cutoff)) throw new RangeError(`not a cutoff: ${cutoff}`);
  return issuedAt.getTime() < Date.parse(cutoff);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sameKeys(value: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(value);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(value, k));
}
