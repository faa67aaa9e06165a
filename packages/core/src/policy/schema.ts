/**
 * The policy file's schema: what it may contain, field by field. Structural rules live here
 * (strict objects, so a typo is an error rather than a silently ignored key); rules that compare
 * one rule with another live in checks.ts. The format is documented in policy/README.md.
 */
import { z } from "zod";
import { ACCOUNT_ID } from "../findings/patterns.js";
import { SUPPORTED_RESOURCE_TYPES } from "../findings/types.js";
import { MODES, PLAYBOOKS } from "../queues/playbooks.js";
import { EXEMPT_RESOURCE_LABEL, isExemptResourceId } from "./exempt.js";
import { MAX_SEVERITY, SEVERITY_BANDS } from "./severity.js";

/** The name decisions carry when no rule matched and `defaults` applied; no rule may use it. */
export const DEFAULT_RULE_NAME = "defaults";
export const DEFAULT_EXEMPT_TAG = Object.freeze({ key: "guardduty-remediation", value: "exempt" });
export const ON_EXPIRY = ["cancel", "contain"] as const;
export const DEFAULT_APPROVAL = Object.freeze({ expiry: "24h", onExpiry: "cancel" as const });
export const MAX_RULES = 1000;
export const MAX_PATTERN_LENGTH = 256;
export const MAX_EXEMPT_RESOURCES = 10_000;

// Unquoted digits are a number in YAML, and 012345678901 would silently lose its leading zero.
const accountRef = z
  .string({
    error: (iss) =>
      typeof iss.input === "number"
        ? 'must be a quoted string, e.g. "012345678901" (unquoted, YAML reads digits as a number and drops leading zeros)'
        : undefined,
  })
  .refine((v) => v === "*" || ACCOUNT_ID.regex.test(v), { error: 'must be a 12-digit account id or "*"' });

// Printable ASCII, no spaces: GuardDuty finding types are ASCII, and this keeps look-alike
// Unicode characters from making a rule that can never match.
const typePattern = z
  .string()
  .max(MAX_PATTERN_LENGTH)
  .regex(/^[\x21-\x7e]+$/, { error: "must be non-empty printable ASCII without spaces (* matches any run of characters)" });

const band = z.string().pipe(z.enum(SEVERITY_BANDS));

const severityRange = z
  .strictObject({
    min: z.number().min(0).max(MAX_SEVERITY).optional(),
    max: z.number().min(0).max(MAX_SEVERITY).optional(),
  })
  .superRefine((range, ctx) => {
    if (range.min === undefined && range.max === undefined) {
      ctx.addIssue({ code: "custom", message: "give min, max or both" });
    } else if (range.min !== undefined && range.max !== undefined && range.min > range.max) {
      ctx.addIssue({ code: "custom", path: ["min"], message: `min ${range.min} is greater than max ${range.max}` });
    }
  });

const severityMatch = z.union([band, z.array(band).min(1), severityRange], {
  error: `must be a severity band (${SEVERITY_BANDS.join(", ")}), a list of bands, or { min, max }`,
});

export const ResourceTypesSchema = z.array(z.enum(SUPPORTED_RESOURCE_TYPES)).min(1);
export const PlaybookSchema = z.enum(PLAYBOOKS);

/**
 * Runtime Monitoring findings: whether GuardDuty names the process that created or modified the
 * file or process involved. `absent` matches a finding with runtime details that names none (the
 * file came with the image, as far as GuardDuty saw); a finding without runtime details matches
 * neither value.
 */
export const MODIFYING_PROCESS = ["absent", "present"] as const;

const matchShape = {
  types: z.array(typePattern).min(1).optional(),
  severity: severityMatch.optional(),
  resourceTypes: ResourceTypesSchema.optional(),
  accounts: z.array(accountRef).min(1).optional(),
  modifyingProcess: z.enum(MODIFYING_PROCESS).optional(),
};
/** What a rule matches on; every listed field must match, an absent field matches anything. */
export const MatchSchema = z.strictObject(matchShape);

export const RuleNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    error: "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
  })
  .refine((name) => name !== DEFAULT_RULE_NAME, { error: `"${DEFAULT_RULE_NAME}" is reserved for the defaults section` });

const ruleShape = {
  name: RuleNameSchema,
  match: MatchSchema,
  playbook: PlaybookSchema.optional(),
  mode: z.enum(MODES),
};
/** Checks that span fields (playbook against resourceTypes) live in checks.ts. */
export const RuleSchema = z.strictObject(ruleShape);

const additionalShape = {
  name: RuleNameSchema,
  match: MatchSchema,
  playbook: PlaybookSchema,
  // Omitted: the mode the rules chose for the finding's own remediation (same severity bands).
  mode: z.enum(MODES).exclude(["ignore"]).optional(),
};
/**
 * An extra remediation for a finding the rules send to a playbook: every entry whose match fits
 * adds one (its own row, job and approval), beside the one the first matching rule chose.
 */
export const AdditionalSchema = z.strictObject(additionalShape);

const accountsShape = { allow: z.array(accountRef).min(1) };
export const AccountsSchema = z.strictObject(accountsShape).superRefine((accounts, ctx) => {
  if (accounts.allow.includes("*") && accounts.allow.length > 1) {
    ctx.addIssue({ code: "custom", path: ["allow"], message: '"*" already allows every account; list account ids or "*", not both' });
  }
});

const exemptTagShape = {
  key: z.string().min(1).max(128).default(DEFAULT_EXEMPT_TAG.key),
  value: z.string().max(256).default(DEFAULT_EXEMPT_TAG.value),
};

// Ids and ARNs only, checked with the same identifier patterns as findings: the workload cannot
// change them (unlike its tags), and an entry that cannot match any finding is a typo to report.
const exemptResource = z.string().max(512).refine(isExemptResourceId, { error: `must be ${EXEMPT_RESOURCE_LABEL}` });

const exemptShape = {
  resources: z.array(exemptResource).max(MAX_EXEMPT_RESOURCES).default([]),
};

const DURATION = /^([1-9][0-9]{0,5})([mhd])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const MIN_EXPIRY_MS = UNIT_MS.m;
const MAX_EXPIRY_MS = 30 * UNIT_MS.d;

/** "30m" | "24h" | "7d" → milliseconds; NaN for anything else. */
export function durationMs(text: string): number {
  const parts = DURATION.exec(text);
  const unit = parts?.[2];
  if (parts === null || (unit !== "m" && unit !== "h" && unit !== "d")) return Number.NaN;
  return Number(parts[1]) * UNIT_MS[unit];
}

const duration = z.string().superRefine((text, ctx) => {
  const ms = durationMs(text);
  if (Number.isNaN(ms)) ctx.addIssue({ code: "custom", message: "must be a whole number of minutes, hours or days, e.g. 30m, 24h, 7d" });
  else if (ms < MIN_EXPIRY_MS || ms > MAX_EXPIRY_MS) ctx.addIssue({ code: "custom", message: "must be between 1m and 30d" });
});

const approvalShape = {
  expiry: duration.default(DEFAULT_APPROVAL.expiry),
  onExpiry: z.enum(ON_EXPIRY).default(DEFAULT_APPROVAL.onExpiry),
};
const approvalSchema = z
  .strictObject(approvalShape)
  .transform((approval) => ({ expiry: approval.expiry, expiryMs: durationMs(approval.expiry), onExpiry: approval.onExpiry }));

const defaultsShape = { mode: z.enum(MODES).default("notify") };

const policyShape = {
  version: z.literal(1),
  accounts: AccountsSchema,
  exemptTag: z.strictObject(exemptTagShape).prefault({}),
  exempt: z.strictObject(exemptShape).prefault({}),
  approval: approvalSchema.prefault({}),
  defaults: z.strictObject(defaultsShape).prefault({}),
  rules: z.array(RuleSchema).max(MAX_RULES),
  additional: z.array(AdditionalSchema).max(MAX_RULES).default([]),
};
export const PolicySchema = z.strictObject(policyShape);

/** Every key the format knows, to suggest the intended one when a key is misspelt. */
export const POLICY_KEYS: ReadonlySet<string> = new Set(
  [policyShape, accountsShape, exemptTagShape, exemptShape, approvalShape, defaultsShape, ruleShape, additionalShape, matchShape, severityRange.shape].flatMap(
    (shape) => Object.keys(shape),
  ),
);

export type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** A loaded policy: validated, with defaults filled in, deep-frozen. */
export type Policy = DeepReadonly<z.output<typeof PolicySchema>>;
export type PolicyRule = Policy["rules"][number];
export type RuleMatch = PolicyRule["match"];
export type PolicyAdditional = Policy["additional"][number];
export type OnExpiry = (typeof ON_EXPIRY)[number];
