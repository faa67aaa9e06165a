// Identifiers are checked before they reach an AWS call: the remediation's resource key, and every
// id read back from an AWS answer or a stored output. The patterns are core's
// (@gdr/core/findings/patterns); a playbook adds its own for ids core does not know.
import type { IdentifierPattern } from "@gdr/core/findings/patterns";
import type { StepContext } from "../../engine/step.js";

export type { IdentifierPattern };

/** AWS answered (or a stored output holds) an identifier that does not look like one. */
export class UnexpectedIdentifierError extends Error {
  override readonly name = "UnexpectedIdentifierError";
}

/**
 * Re-validates an identifier read from an AWS response or a stored output before it reaches
 * another call: a value that does not match is never passed on.
 */
export function expectId(pattern: IdentifierPattern, value: unknown, what: string): string {
  if (typeof value !== "string" || !pattern.regex.test(value)) {
    const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 80)) : typeof value;
    throw new UnexpectedIdentifierError(`${what} is not ${pattern.label}: ${shown}`);
  }
  return value;
}

/** The remediation's resource key, checked against the playbook's pattern before any call. */
export function resourceKeyAs(ctx: Pick<StepContext, "remediation">, pattern: IdentifierPattern): string {
  return expectId(pattern, ctx.remediation.resourceKey, "the remediation's resource key");
}
