// Changing a sample finding in place, by path, for the cases a builder has no option for.
import type { JsonObject, JsonValue } from "./base.js";

type PathKey = string | number;

function container(root: JsonValue, path: readonly PathKey[]): JsonObject | JsonValue[] {
  let node: JsonValue = root;
  for (const key of path) {
    const next: JsonValue | undefined = Array.isArray(node)
      ? node[Number(key)]
      : typeof node === "object" && node !== null
        ? node[String(key)]
        : undefined;
    if (next === undefined || typeof next !== "object" || next === null) {
      throw new Error(`fixture path ${path.join(".")} does not lead to an object or array`);
    }
    node = next;
  }
  if (typeof node !== "object" || node === null) throw new Error("fixture root is not an object");
  return node;
}

/** Sets `value` at `path` inside `root` (which is changed and returned). */
export function setIn<T extends JsonObject>(root: T, path: readonly PathKey[], value: JsonValue): T {
  const parent = container(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (last === undefined) throw new Error("setIn needs a non-empty path");
  if (Array.isArray(parent)) parent[Number(last)] = value;
  else parent[String(last)] = value;
  return root;
}

/** Removes the key at `path` inside `root` (which is changed and returned). */
export function deleteIn<T extends JsonObject>(root: T, path: readonly PathKey[]): T {
  const parent = container(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (last === undefined) throw new Error("deleteIn needs a non-empty path");
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else Reflect.deleteProperty(parent, String(last));
  return root;
}
