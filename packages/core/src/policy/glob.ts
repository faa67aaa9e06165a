/**
 * Finding-type globs: `*` matches any run of characters (including none); every other character
 * matches itself, case-sensitively. There is no `?`, no character class and no escape, so type
 * names full of regex metacharacters (`Backdoor:EC2/C&CActivity.B!DNS`) need no quoting.
 *
 * Matching never builds a regular expression from policy text and runs in time linear in
 * pattern plus text: the pieces between stars are found left to right, each at its earliest
 * position (earliest is always safe for `*`-only globs), with a Knuth–Morris–Pratt scan that
 * never re-reads a character of the text.
 */
export function globMatch(pattern: string, text: string): boolean {
  const pieces = pattern.split("*");
  const first = pieces[0] ?? "";
  if (pieces.length === 1) return pattern === text;
  const last = pieces[pieces.length - 1] ?? "";
  if (text.length < first.length + last.length) return false;
  if (!text.startsWith(first) || !text.endsWith(last)) return false;

  let from = first.length;
  const end = text.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i] ?? "";
    if (piece === "") continue;
    const at = findWithin(text, piece, from, end);
    if (at < 0) return false;
    from = at + piece.length;
  }
  return true;
}

/** Index of the first occurrence of `needle` inside `text[from, end)`, or -1. Linear (KMP). */
function findWithin(text: string, needle: string, from: number, end: number): number {
  const fallback = failureTable(needle);
  let matched = 0;
  for (let i = from; i < end; i++) {
    const c = text.charCodeAt(i);
    while (matched > 0 && needle.charCodeAt(matched) !== c) matched = fallback[matched - 1] ?? 0;
    if (needle.charCodeAt(matched) === c) matched++;
    if (matched === needle.length) return i - needle.length + 1;
  }
  return -1;
}

/** fallback[k] = length of the longest proper prefix of needle[0..k] that is also its suffix. */
function failureTable(needle: string): number[] {
  const fallback = new Array<number>(needle.length).fill(0);
  let k = 0;
  for (let i = 1; i < needle.length; i++) {
    const c = needle.charCodeAt(i);
    while (k > 0 && needle.charCodeAt(k) !== c) k = fallback[k - 1] ?? 0;
    if (needle.charCodeAt(k) === c) k++;
    fallback[i] = k;
  }
  return fallback;
}
