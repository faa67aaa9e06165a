import { formatPath, preview } from "./describe.js";
import { FindingRejection } from "./errors.js";
import { findingDetailSchema, type FindingDetail } from "./finding-schema.js";
import { IdentifierChecker } from "./identifiers.js";
import {
  ACCOUNT_ID,
  FINDING_ID,
  FINDING_TYPE,
  GUARDDUTY_FINDING_ARN,
  PARTITION,
  REGION,
  type IdentifierPattern,
} from "./patterns.js";
import { mapResource } from "./resource.js";
import { collectTags } from "./tags.js";
import { parseTimestamp } from "./timestamps.js";
import type { ParsedFinding } from "./types.js";

/**
 * Turns a finding (the event's `detail`, already proven safe by safe-json) into a ParsedFinding,
 * or throws FindingRejection.
 *
 * `detail.accountId` is the account to act in. The finding ARN must agree with it
 * (`account_mismatch` otherwise: a forged or inconsistent finding) and with `detail.region`,
 * `detail.partition` and `detail.id`. The event's own `account` is not compared: with a delegated
 * GuardDuty administrator, member accounts' findings arrive on the administrator's event bus.
 *
 * Archived and sample findings parse like any other; policy routing decides to ignore them.
 */
export function parseFinding(detail: Record<string, unknown>, envelope: ParsedFinding["envelope"]): ParsedFinding {
  const parsed = findingDetailSchema.safeParse(detail, { error: missingFieldMessage });
  if (!parsed.success) throw new FindingRejection("invalid_finding", describeIssues(parsed.error.issues));
  const d = parsed.data;

  const id = strictId(d.id, FINDING_ID, "detail.id");
  const accountId = strictId(d.accountId, ACCOUNT_ID, "detail.accountId");
  const region = strictId(d.region, REGION, "detail.region");
  const partition = strictId(d.partition, PARTITION, "detail.partition");
  const arn = strictId(d.arn, GUARDDUTY_FINDING_ARN, "detail.arn");
  checkArnAgrees(arn, { id, accountId, region, partition });
  if (!FINDING_TYPE.regex.test(d.type)) {
    throw new FindingRejection("invalid_finding", `detail.type is ${preview(d.type)}, expected ${FINDING_TYPE.label}`);
  }

  const createdAt = timestamp(d.createdAt, "detail.createdAt");
  const updatedAt = timestamp(d.updatedAt, "detail.updatedAt");
  if (updatedAt.getTime() < createdAt.getTime()) {
    throw new FindingRejection("invalid_finding", "detail.updatedAt is earlier than detail.createdAt");
  }
  const firstSeen = optionalTimestamp(d.service.eventFirstSeen, "detail.service.eventFirstSeen");
  const lastSeen = optionalTimestamp(d.service.eventLastSeen, "detail.service.eventLastSeen");

  const sample = isSample(d);
  const ids = new IdentifierChecker({ partition, region, accountId }, sample);
  const { resource, resourceKey } = mapResource(d.resource, ids);

  return {
    id,
    arn,
    accountId,
    region,
    partition,
    type: d.type,
    severity: d.severity,
    title: d.title,
    ...(d.description == null ? {} : { description: d.description }),
    createdAt,
    updatedAt,
    ...(firstSeen === undefined ? {} : { firstSeen }),
    ...(lastSeen === undefined ? {} : { lastSeen }),
    count: d.service.count,
    archived: d.service.archived === true,
    sample,
    resourceType: d.resource.resourceType,
    resource,
    resourceKey,
    tags: collectTags(d.resource),
    ...(d.service.runtimeDetails == null ? {} : { runtime: { modifyingProcess: d.service.runtimeDetails.context?.modifyingProcess != null } }),
    detail,
    envelope,
  };
}

/** `service.additionalInfo.sample` is true (or the string "true"). */
function isSample(d: FindingDetail): boolean {
  const flag = d.service.additionalInfo?.sample;
  return flag === true || (typeof flag === "string" && flag.toLowerCase() === "true");
}

function strictId(value: string, pattern: IdentifierPattern, path: string): string {
  if (pattern.regex.test(value)) return value;
  throw new FindingRejection("invalid_identifier", `${path} is ${preview(value)}, expected ${pattern.label}`);
}

function checkArnAgrees(arn: string, f: { id: string; accountId: string; region: string; partition: string }): void {
  const groups: Partial<Record<string, string>> = GUARDDUTY_FINDING_ARN.regex.exec(arn)?.groups ?? {};
  if (groups["account"] !== f.accountId) {
    throw new FindingRejection(
      "account_mismatch",
      `detail.arn is in account ${groups["account"] ?? "?"}, but detail.accountId is ${f.accountId}`,
    );
  }
  if (groups["region"] !== f.region) {
    throw new FindingRejection(
      "invalid_finding",
      `detail.arn is in region ${groups["region"] ?? "?"}, but detail.region is ${f.region}`,
    );
  }
  if (groups["partition"] !== f.partition) {
    throw new FindingRejection(
      "invalid_finding",
      `detail.arn is in partition ${groups["partition"] ?? "?"}, but detail.partition is ${f.partition}`,
    );
  }
  if (groups["findingId"] !== f.id) {
    throw new FindingRejection("invalid_finding", "detail.arn names a different finding than detail.id");
  }
}

function timestamp(value: string | number, path: string): Date {
  const result = parseTimestamp(value);
  if (result.ok) return result.date;
  throw new FindingRejection("invalid_finding", `${path} ${preview(value)} ${result.problem}`);
}

function optionalTimestamp(value: string | number | null | undefined, path: string): Date | undefined {
  return value === undefined || value === null ? undefined : timestamp(value, path);
}

/** Says "is missing" instead of zod's "expected string, received undefined" for absent fields. */
function missingFieldMessage(issue: { code?: string; input?: unknown }): string | undefined {
  return issue.code === "invalid_type" && issue.input === undefined ? "is missing" : undefined;
}

/** The first few schema problems, each with its field path, e.g. "detail.severity: must be at most 10.0". */
function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const shown = issues.slice(0, 3).map((issue) => `${formatPath("detail", issue.path)}: ${issue.message}`);
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : "";
  return `${shown.join("; ")}${more}`;
}
