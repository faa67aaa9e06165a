// Placeholders for answers a change has not given yet. In plan and dry-run mode a change is
// recorded, not sent, so act gets back `planned` instead of AWS's answer; a later call that uses
// the answer (the new group's id) is then recorded with the placeholder, which is what an
// approver reads: "(the group CreateSecurityGroup returns)".
import type { IdentifierPattern } from "@gdr/core/findings/patterns";
import type { StepContext } from "../../engine/step.js";
import { isPlaceholder } from "../../engine/placeholders.js";
import { expectId } from "./ids.js";

export { isPlaceholder, isPlaceholderFor, resultOf } from "../../engine/placeholders.js";

/**
 * An identifier from a change's answer: checked against its pattern in act mode (AWS answered),
 * and also accepted as a placeholder in plan and dry-run mode (nothing was sent). A placeholder
 * may go into later changes only: those are recorded, never sent, outside act mode.
 */
export function answeredId(ctx: Pick<StepContext, "mode">, pattern: IdentifierPattern, value: unknown, what: string): string {
  if (ctx.mode !== "act" && isPlaceholder(value)) return value;
  return expectId(pattern, value, what);
}
