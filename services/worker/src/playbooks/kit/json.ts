// Step outputs and call parameters as JSON. The conversion of SDK inputs is the engine's
// (calls.ts toJson); reading a stored output back goes through the producing step's zod schema.
import type { z } from "zod";
import { toJson } from "../../engine/calls.js";
import type { Json, JsonObject } from "../../engine/step.js";

export { toJson, type Json, type JsonObject };

import { OutputShapeError } from "../../engine/step.js";

export { OutputShapeError };

/** An SDK input as a JSON object (a plan's params, an audit detail). */
export function toJsonObject(value: object): JsonObject {
  const json = toJson(value);
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw new OutputShapeError("parameters should be an object");
  return json;
}

/**
 * Another step's recorded output (ctx.outputs), read through that step's schema: stored data is
 * checked again before anything in it reaches a call. Throws OutputShapeError naming `what`.
 */
export function parseOutput<T>(schema: z.ZodType<T>, value: Json | undefined, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
    throw new OutputShapeError(`${what} does not have the recorded shape${at}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}
