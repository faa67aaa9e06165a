/**
 * Reads the policy file once at start-up. A file that is not right fails with one PolicyError
 * listing every problem with its path and line, so an operator fixes it in one edit.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type YAMLError } from "yaml";
import { additionalProblems, crossRuleProblems } from "./checks.js";
import { PolicyError } from "./errors.js";
import { formatPath, policyErrorMap, problemsFromIssues, type Problem } from "./problems.js";
import { POLICY_KEYS, PolicySchema, type DeepReadonly, type Policy } from "./schema.js";

/** A policy is a page of rules; anything this large is a mistake (or an attack on the parser). */
export const MAX_POLICY_BYTES = 1024 * 1024;

export function loadPolicyFile(path: string | URL): Policy {
  const source = path instanceof URL ? fileURLToPath(path) : path;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PolicyError(source, [`cannot read the file: ${code ?? String(err)}`]);
  }
  return parsePolicy(text, source);
}

export function parsePolicy(text: string, source: string): Policy {
  if (Buffer.byteLength(text, "utf8") > MAX_POLICY_BYTES) {
    throw new PolicyError(source, [`the file is larger than ${MAX_POLICY_BYTES} bytes`]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) throw new PolicyError(source, doc.errors.map((error) => yamlProblem(error, lines)));

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new PolicyError(source, [`YAML: ${err instanceof Error ? err.message : String(err)}`]);
  }
  if (raw === null || raw === undefined) {
    throw new PolicyError(source, ["the file is empty; policy/README.md describes the format"]);
  }

  const parsed = PolicySchema.safeParse(raw, { error: policyErrorMap });
  const problems = [
    ...(parsed.success ? [] : problemsFromIssues(parsed.error.issues, POLICY_KEYS)),
    ...crossRuleProblems(raw),
    ...additionalProblems(raw),
  ];
  if (!parsed.success || problems.length > 0) {
    const located = problems.map((problem) => ({ problem, line: lineOf(doc, lines, problem.path) }));
    located.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)); // stable: same line keeps schema order
    throw new PolicyError(
      source,
      located.map(({ problem, line }) => describeProblem(problem, line)),
    );
  }
  return deepFreeze(parsed.data);
}

function describeProblem(problem: Problem, line: number | undefined): string {
  const where = line === undefined ? "" : ` (line ${line})`;
  return `${formatPath(problem.path)}: ${problem.message}${where}`;
}

function yamlProblem(error: YAMLError, lines: LineCounter): string {
  const at = error.linePos?.[0] ?? lines.linePos(error.pos[0]);
  const message = (error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
  return `line ${at.line}, column ${at.col}: YAML: ${message}`;
}

/**
 * The line of the deepest node on `path` that exists: the key itself for map entries (so an
 * unknown key points at its own line), the parent when a required key is missing.
 */
function lineOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair === undefined) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
      offset = rangeStart(node) ?? offset;
    } else {
      break;
    }
  }
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

function rangeStart(node: unknown): number | undefined {
  if (typeof node !== "object" || node === null || !("range" in node)) return undefined;
  const range = (node as { range?: readonly number[] | null }).range;
  return range?.[0];
}

function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value as DeepReadonly<T>;
}
