import { formatPath, preview } from "./describe.js";
import { UNPAIRED_SURROGATE } from "../text.js";
import { scanJson } from "./json-scan.js";
import type { RejectReason } from "./reasons.js";

/**
 * JSON parsing for untrusted message bodies. Every check that protects the process or the audit
 * store happens here, before any schema sees the value:
 *
 * - size in UTF-8 bytes, before parsing (SQS and SNS limits are in bytes, and so is our cap);
 * - nesting depth, by a linear scan of the text before JSON.parse (json-scan.ts), so hostile deep
 *   nesting never reaches a recursive parser or walker;
 * - a key that occurs twice in one object, found by the same scan: JSON.parse keeps the last
 *   value, a filter reading the first would see another finding (a parser differential);
 * - the keys `__proto__`, `constructor` and `prototype` anywhere (prototype-pollution probes: no
 *   GuardDuty field uses them, so their presence means the message was crafted);
 * - NUL characters and unpaired UTF-16 surrogates anywhere, in keys or values: Postgres text and
 *   jsonb refuse both, and one such row would fail the whole ingest transaction.
 */

export interface ParseOptions {
  /** Largest accepted body, in UTF-8 bytes. */
  maxBytes: number;
  /** Deepest accepted nesting of arrays and objects. */
  maxDepth: number;
}

export const DEFAULT_PARSE_OPTIONS: Readonly<ParseOptions> = Object.freeze({ maxBytes: 262_144, maxDepth: 32 });

export type SafeJsonResult =
  | { ok: true; value: unknown }
  | { ok: false; reason: RejectReason; message: string };

const HOSTILE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Parses `text` as JSON if it passes every check above; `label` names the text in messages. */
export function parseSafeJson(text: string, options: ParseOptions, label = "message body"): SafeJsonResult {
  // A UTF-16 code unit is at least one UTF-8 byte, so a long string can be refused without
  // measuring it; otherwise count the bytes exactly (multi-byte characters count in full).
  if (text.length > options.maxBytes) {
    return fail("body_too_large", `${label} is larger than ${options.maxBytes} bytes (${text.length}+ bytes)`);
  }
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > options.maxBytes) {
    return fail("body_too_large", `${label} is ${bytes} bytes, more than the ${options.maxBytes} allowed`);
  }
  if (text.includes("\u0000")) {
    return fail("invalid_characters", `${label} contains a NUL character`);
  }
  const scan = scanJson(text, options.maxDepth);
  if (scan.deepest > options.maxDepth) {
    return fail("too_deep", `${label} nests arrays/objects deeper than ${options.maxDepth} levels`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    const detail = err instanceof SyntaxError ? `: ${err.message.slice(0, 120)}` : "";
    return fail("not_json", `${label} is not valid JSON${detail}`);
  }
  if (scan.duplicate !== null) {
    const { key, path } = scan.duplicate;
    return fail(
      "invalid_json",
      `${label}: ${formatPath("$", path)} has the key ${preview(key)} more than once (ambiguous: parsers disagree on which value counts)`,
    );
  }
  const problem = findHostileContent(value);
  if (problem !== null) return { ...problem, message: `${label}: ${problem.message}` };
  return { ok: true, value };
}

/**
 * Walks the parsed value iteratively (an explicit stack, no recursion) looking for hostile keys,
 * NUL characters (from `\u0000` escapes) and unpaired surrogates. Depth is already bounded.
 */
function findHostileContent(root: unknown): { ok: false; reason: RejectReason; message: string } | null {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: root, path: [] }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path } = item;
    if (typeof value === "string") {
      const bad = badCharacters(value);
      if (bad !== null) return fail("invalid_characters", `${formatPath("$", path)} contains ${bad}`);
    } else if (Array.isArray(value)) {
      value.forEach((child, index) => stack.push({ value: child, path: [...path, index] }));
    } else if (typeof value === "object" && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (HOSTILE_KEYS.has(key)) {
          return fail("hostile_key", `${formatPath("$", path)} has the forbidden key ${preview(key)}`);
        }
        const bad = badCharacters(key);
        if (bad !== null) return fail("invalid_characters", `a key in ${formatPath("$", path)} contains ${bad}`);
        stack.push({ value: child, path: [...path, key] });
      }
    }
  }
  return null;
}

function badCharacters(s: string): string | null {
  if (s.includes("\u0000")) return "a NUL character (\\u0000)";
  if (UNPAIRED_SURROGATE.test(s)) return "an unpaired UTF-16 surrogate";
  return null;
}

function fail(reason: RejectReason, message: string): { ok: false; reason: RejectReason; message: string } {
  return { ok: false, reason, message };
}
