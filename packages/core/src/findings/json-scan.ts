/**
 * One linear pass over a JSON text, before JSON.parse, that measures what JSON.parse cannot tell
 * us safely or at all:
 *
 * - the deepest nesting of arrays and objects (stopping as soon as the limit is passed), so that
 *   hostile deep nesting never reaches a recursive parser or walker;
 * - the first key that occurs twice in one object. JSON.parse keeps the last value and a reviver
 *   only ever sees that one, while other parsers (and filters such as an EventBridge rule or a
 *   SIEM reading the first occurrence) keep the first: two readers of the same body would act on
 *   different findings. Keys are compared after unescaping, so `"instance\u0049d"` and
 *   `"instanceId"` are the same key.
 *
 * The scan trusts the text to be JSON only as far as it needs to: on text that is not JSON it
 * stays linear and never throws, and its answer does not matter because JSON.parse refuses the
 * text afterwards (callers report a duplicate only once JSON.parse has succeeded).
 */

export interface DuplicateKey {
  /** The key as JSON.parse would see it (escapes decoded). */
  key: string;
  /** Where the object holding it sits: object keys and array indexes from the root. */
  path: (string | number)[];
}

export interface JsonScan {
  /** The deepest nesting seen; once it passes `limit` the scan stops, so this is then limit + 1. */
  deepest: number;
  /** The first duplicated key in text order, or null. */
  duplicate: DuplicateKey | null;
}

/** An open array or object: an object knows its keys so far; both know where the scan is in them. */
interface Frame {
  keys: Set<string> | null;
  /** In an object: the next string is a key (after `{` or `,`). */
  expectKey: boolean;
  /** In an object: the last key read; in an array: the index of the current element. */
  key: string;
  index: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export function scanJson(text: string, limit: number): JsonScan {
  const frames: Frame[] = [];
  let deepest = 0;
  let duplicate: DuplicateKey | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) {
          escaped = true;
          i++;
        } else if (s === QUOTE) break;
      }
      const top = frames[frames.length - 1];
      if (top?.keys && top.expectKey) {
        top.expectKey = false;
        const key = decodeKey(text.slice(start, i + 1), escaped);
        if (duplicate === null && top.keys.has(key)) duplicate = { key, path: pathTo(frames) };
        top.keys.add(key);
        top.key = key;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      frames.push({ keys: c === 0x7b ? new Set() : null, expectKey: c === 0x7b, key: "", index: 0 });
      if (frames.length > deepest) {
        deepest = frames.length;
        if (deepest > limit) return { deepest, duplicate };
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      frames.pop();
    } else if (c === 0x2c /* , */) {
      const top = frames[frames.length - 1];
      if (top?.keys) top.expectKey = true;
      else if (top) top.index++;
    }
  }
  return { deepest, duplicate };
}

/** A key's text including its quotes, decoded as JSON.parse would (only when it has escapes). */
function decodeKey(quoted: string, escaped: boolean): string {
  if (!escaped) return quoted.slice(1, -1);
  try {
    const value: unknown = JSON.parse(quoted);
    return typeof value === "string" ? value : quoted;
  } catch {
    // Not a valid string literal: JSON.parse will refuse the whole text anyway.
    return quoted;
  }
}

/** The path from the root to the innermost open object (the one holding the key just read). */
function pathTo(frames: readonly Frame[]): (string | number)[] {
  return frames.slice(0, -1).map((frame) => (frame.keys ? frame.key : frame.index));
}
