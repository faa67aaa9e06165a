/**
 * Checks that relate one field to another (a rule's playbook and its resource types, a rule and
 * the allow list, rules with each other), which a per-field schema cannot see. Each field is
 * parsed on its own, so a rule broken elsewhere is still checked here: the file's author learns
 * every problem in one pass. A field that fails to parse was already reported by the schema.
 */
import type { z } from "zod";
import { SUPPORTED_RESOURCE_TYPES } from "../findings/types.js";
import { PLAYBOOK_RESOURCE_TYPES } from "./compat.js";
import type { Problem } from "./problems.js";
import { AccountsSchema, MatchSchema, PlaybookSchema, ResourceTypesSchema, RuleNameSchema } from "./schema.js";

type Match = z.output<typeof MatchSchema>;

export function crossRuleProblems(raw: unknown): Problem[] {
  if (!isRecord(raw) || !Array.isArray(raw.rules)) return [];
  const rules: readonly unknown[] = raw.rules;
  const accounts = AccountsSchema.safeParse(raw.accounts);
  const allowed = accounts.success && !accounts.data.allow.includes("*") ? new Set(accounts.data.allow) : undefined;
  const firstUse = new Map<string, number>();
  const problems: Problem[] = [];

  rules.forEach((value, i) => {
    const rule = isRecord(value) ? value : {};
    const match = isRecord(rule.match) ? rule.match : {};
    const at = (...path: PropertyKey[]): PropertyKey[] => ["rules", i, ...path];

    const name = RuleNameSchema.safeParse(rule.name);
    if (name.success) {
      const first = firstUse.get(name.data);
      if (first === undefined) firstUse.set(name.data, i);
      else problems.push({ path: at("name"), message: `duplicate rule name "${name.data}" (first used by rules[${first}])` });
    }

    problems.push(...playbookMisfits(rule, match, at));

    const parsedMatch = MatchSchema.safeParse(rule.match);
    if (!parsedMatch.success) return;
    parsedMatch.data.accounts?.forEach((account, j) => {
      if (allowed !== undefined && account !== "*" && !allowed.has(account)) {
        problems.push({
          path: at("match", "accounts", j),
          message: `account ${account} is not in accounts.allow, so this rule can never see it`,
        });
      }
    });
    const later = rules.length - 1 - i;
    if (later > 0 && matchesEverything(parsedMatch.data)) {
      problems.push({
        path: at("match"),
        message: `matches every finding, so the ${later === 1 ? "rule" : `${later} rules`} after it can never match; move it last or use defaults`,
      });
    }
  });
  return problems;
}

/** Each `additional` entry: its name once among them, its playbook able to act on what it matches. */
export function additionalProblems(raw: unknown): Problem[] {
  if (!isRecord(raw) || !Array.isArray(raw.additional)) return [];
  const entries: readonly unknown[] = raw.additional;
  const firstUse = new Map<string, number>();
  const problems: Problem[] = [];
  entries.forEach((value, i) => {
    const entry = isRecord(value) ? value : {};
    const match = isRecord(entry.match) ? entry.match : {};
    const at = (...path: PropertyKey[]): PropertyKey[] => ["additional", i, ...path];
    const name = RuleNameSchema.safeParse(entry.name);
    if (name.success) {
      const first = firstUse.get(name.data);
      if (first === undefined) firstUse.set(name.data, i);
      else problems.push({ path: at("name"), message: `duplicate name "${name.data}" (first used by additional[${first}])` });
    }
    problems.push(...playbookMisfits(entry, match, at));
  });
  return problems;
}

/** A rule or entry that names a playbook must limit its resource types to what that playbook handles. */
function playbookMisfits(rule: Record<string, unknown>, match: Record<string, unknown>, at: (...path: PropertyKey[]) => PropertyKey[]): Problem[] {
  const playbook = PlaybookSchema.safeParse(rule.playbook);
  const resourceTypes = ResourceTypesSchema.safeParse(match.resourceTypes);
  if (!playbook.success || (!resourceTypes.success && match.resourceTypes !== undefined)) return [];
  const handles = PLAYBOOK_RESOURCE_TYPES[playbook.data];
  const misfits = (resourceTypes.data ?? SUPPORTED_RESOURCE_TYPES).filter((type) => !handles.includes(type));
  if (misfits.length === 0) return [];
  return [
    {
      path: at("playbook"),
      message: resourceTypes.success
        ? `${playbook.data} cannot act on ${misfits.join(", ")} (it handles ${handles.join(", ")})`
        : `${playbook.data} only handles ${handles.join(", ")}; limit match.resourceTypes to those`,
    },
  ];
}

function matchesEverything(match: Match): boolean {
  return (
    (match.types === undefined || match.types.some((pattern) => /^\*+$/.test(pattern))) &&
    match.severity === undefined &&
    match.modifyingProcess === undefined &&
    (match.resourceTypes === undefined || SUPPORTED_RESOURCE_TYPES.every((type) => match.resourceTypes?.includes(type))) &&
    (match.accounts === undefined || match.accounts.includes("*"))
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
