import { unwrapEnvelope } from "./envelope.js";
import { FindingRejection } from "./errors.js";
import { parseFinding } from "./finding.js";
import type { IgnoreReason, RejectReason } from "./reasons.js";
import { DEFAULT_PARSE_OPTIONS, parseSafeJson, type ParseOptions } from "./safe-json.js";
import type { ParsedFinding } from "./types.js";

export * from "./types.js";
export * from "./reasons.js";
export * from "./patterns.js";
export { DEFAULT_PARSE_OPTIONS, type ParseOptions } from "./safe-json.js";
export { parseTimestamp, type TimestampResult } from "./timestamps.js";
export { resourceKeyOf } from "./resource.js";
export { imagesOf, targetKeyOf, type TargetKey } from "./targets.js";
export { GUARDDUTY_SOURCE, GUARDDUTY_FINDING_DETAIL_TYPE } from "./envelope.js";

export type ParseResult =
  | { status: "finding"; finding: ParsedFinding }
  | { status: "ignored"; reason: IgnoreReason; message: string }
  | { status: "rejected"; reason: RejectReason; message: string };

/**
 * Parses one SQS message body into a GuardDuty finding, or says precisely why it is ignored or
 * rejected. Never throws for any input: size, depth, hostile keys and bad characters are refused
 * before the schemas run (safe-json.ts), then the envelope is unwrapped (envelope.ts) and the
 * finding validated (finding.ts). Archived and sample findings are returned as findings; policy
 * routing decides what to ignore.
 */
export function parseMessageBody(body: string, options: ParseOptions = DEFAULT_PARSE_OPTIONS): ParseResult {
  const json = parseSafeJson(body, options);
  if (!json.ok) return { status: "rejected", reason: json.reason, message: json.message };

  const unwrapped = unwrapEnvelope(json.value, options);
  if (unwrapped.status !== "event") return unwrapped;

  try {
    return { status: "finding", finding: parseFinding(unwrapped.event.detail, unwrapped.envelope) };
  } catch (err) {
    if (err instanceof FindingRejection) return { status: "rejected", reason: err.reason, message: err.message };
    throw err;
  }
}
