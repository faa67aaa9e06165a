// zod pieces for step outputs: an identifier field is checked against its pattern
// when the engine validates an output and again whenever a stored output is read back.
import { z } from "zod";
import type { IdentifierPattern } from "@gdr/core/findings/patterns";

/** A string that matches the identifier pattern (the message names what it should look like). */
export function idOf(pattern: IdentifierPattern): z.ZodString {
  return z.string().regex(pattern.regex, { message: `not ${pattern.label}` });
}
