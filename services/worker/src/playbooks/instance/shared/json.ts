import type { Json } from "../../../engine/step.js";

export type JsonObject = { [key: string]: Json };

/** A recorded step output does not have the shape this code wrote: never retry, look at it. */
export class OutputShapeError extends Error {
  override readonly name = "OutputShapeError";
}

/**
 * Turns an SDK input (plain objects, strings, numbers, booleans, arrays) into Json for a frozen
 * plan: `undefined` fields are dropped, anything that Json cannot hold is refused.
 */
export function toJson(value: unknown): Json {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError("a plan parameter is not a finite number");
    return value;
  }
  if (Array.isArray(value)) return value.map(toJson);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) out[key] = toJson(item);
    }
    return out;
  }
  throw new TypeError(`a plan parameter of type ${typeof value} cannot be stored as JSON`);
}

export function toJsonObject(value: object): JsonObject {
  return asObject(toJson(value), "plan parameters");
}

export function asObject(value: Json | undefined, what: string): JsonObject {
  if (value === undefined || value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new OutputShapeError(`${what} should be an object`);
  }
  return value;
}

export function asArray(value: Json | undefined, what: string): Json[] {
  if (!Array.isArray(value)) throw new OutputShapeError(`${what} should be an array`);
  return value;
}

export function asString(value: Json | undefined, what: string): string {
  if (typeof value !== "string") throw new OutputShapeError(`${what} should be a string`);
  return value;
}

export function asStringOrNull(value: Json | undefined, what: string): string | null {
  return value === null ? null : asString(value, what);
}

export function asNumber(value: Json | undefined, what: string): number {
  if (typeof value !== "number") throw new OutputShapeError(`${what} should be a number`);
  return value;
}

export function asBoolean(value: Json | undefined, what: string): boolean {
  if (typeof value !== "boolean") throw new OutputShapeError(`${what} should be a boolean`);
  return value;
}
