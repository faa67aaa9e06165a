/**
 * Helpers that put hostile input into operator-facing messages safely: short, printable ASCII only,
 * never more than a few dozen characters of what was received.
 */

const MAX_PREVIEW = 60;

/**
 * A quoted, escaped, truncated rendering of a received value, e.g. "\u0456-0abc" or
 * "aaaa…" (5000 chars). Non-printable and non-ASCII characters are shown as \uXXXX escapes, so
 * look-alike letters are visible as what they are. At most ~80 characters of output.
 */
export function preview(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (typeof value !== "string") return jsonKind(value);
  let out = "";
  let used = 0;
  for (const ch of value) {
    if (out.length >= MAX_PREVIEW) break;
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0x20 && code <= 0x7e && ch !== '"' && ch !== "\\") out += ch;
    else out += code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
    used += ch.length;
  }
  return used < value.length ? `"${out}…" (${value.length} chars)` : `"${out}"`;
}

/** Renders a path such as ["resource", "networkInterfaces", 0, "groupId"] as resource.networkInterfaces[0].groupId. */
export function formatPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (typeof part === "string" && /^[A-Za-z_$][A-Za-z0-9_$-]{0,63}$/.test(part)) out += `.${part}`;
    else out += `[${preview(String(part))}]`;
  }
  return out;
}

/** A short name for the JSON type of a value, for messages like "expected an object, got an array". */
export function jsonKind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}
