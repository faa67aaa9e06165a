/**
 * Turns zod issues into problems a person can act on: a path into the file (`rules[2].mode`) and
 * a sentence in the file's own vocabulary ("a list", "a map"), never zod's internals.
 */
import type { z } from "zod";

export interface Problem {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** The error map passed to safeParse; a message set on a schema itself still wins. */
export const policyErrorMap: z.core.$ZodErrorMap = (issue) => {
  // A missing key reaches here as the wrong type (or, for a literal, the wrong value).
  if ((issue.code === "invalid_type" || issue.code === "invalid_value") && issue.input === undefined) return "is required";
  switch (issue.code) {
    case "invalid_type":
      return `must be ${kindName(issue.expected)}, not ${describe(issue.input)}`;
    case "invalid_value":
      return issue.values.length === 1
        ? `must be ${String(issue.values[0])}`
        : `must be one of ${issue.values.map(String).join(", ")}`;
    case "too_small":
      return bound("at least", issue.origin, issue.minimum);
    case "too_big":
      return bound("at most", issue.origin, issue.maximum);
    default:
      return undefined;
  }
};

function bound(relation: string, origin: string, limit: number | bigint): string {
  if (origin === "array") return limit === 1 && relation === "at least" ? "must not be an empty list" : `must list ${relation} ${limit} entries`;
  if (origin === "string") return limit === 1 && relation === "at least" ? "must not be empty" : `must be ${relation} ${limit} characters`;
  return `must be ${relation} ${limit}`;
}

function kindName(expected: string): string {
  switch (expected) {
    case "object":
      return "a map (key: value)";
    case "array":
      return "a list";
    case "string":
      return "a string";
    case "number":
      return "a number";
    default:
      return expected;
  }
}

function describe(input: unknown): string {
  if (input === null) return "an empty value";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "a map";
  return `a ${typeof input}`;
}

/** One problem per unknown key and per leaf issue; unions report the branch the input aimed at. */
export function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  knownKeys: ReadonlySet<string>,
  base: readonly PropertyKey[] = [],
): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    const path = [...base, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => {
        const guess = closest(key, knownKeys);
        return { path: [...path, key], message: guess === undefined ? "unknown key" : `unknown key (did you mean "${guess}"?)` };
      });
    }
    if (issue.code === "invalid_union") {
      // A branch that failed only because the input has the wrong shape (a string where it wanted
      // a list) says nothing useful. If one branch fits the shape, its complaints are the answer.
      const fitting = issue.errors.filter((branch) => !branch.every((i) => i.code === "invalid_type" && i.path.length === 0));
      const [only] = fitting;
      if (fitting.length === 1 && only !== undefined) return problemsFromIssues(only, knownKeys, path);
    }
    return [{ path, message: issue.message }];
  });
}

/** `rules[2].match.types[0]`; keys that are not plain words are quoted. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_][\w-]*$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out === "" ? "(top level)" : out;
}

/** The closest known key within edit distance 2 (or differing only in case), if any. */
function closest(key: string, known: ReadonlySet<string>): string | undefined {
  if (key.length > 64) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = candidate.toLowerCase() === key.toLowerCase() ? 0 : distance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, two rows. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitute));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
