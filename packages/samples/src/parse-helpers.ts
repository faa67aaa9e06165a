/**
 * Small assertions shared by the findings tests: run a detail or body through parseMessageBody and
 * narrow the result, failing with the parser's own message when the status is not the expected one.
 */
import { expect } from "vitest";
import { eventBridgeEvent, type EventOptions, type JsonObject } from "./findings.js";
import { parseMessageBody, type ParseOptions, type ParseResult } from "@gdr/core/findings/index";
import type { ParsedFinding } from "@gdr/core/findings/types";
import type { IgnoreReason, RejectReason } from "@gdr/core/findings/reasons";

export function parseDetail(detail: JsonObject, event: EventOptions = {}): ParseResult {
  return parseMessageBody(JSON.stringify(eventBridgeEvent(detail, event)));
}

export function parseJson(value: unknown, options?: ParseOptions): ParseResult {
  return parseMessageBody(JSON.stringify(value), options);
}

export function expectFinding(result: ParseResult): ParsedFinding {
  if (result.status !== "finding") {
    expect.fail(`expected a finding, got ${result.status} ${result.reason}: ${result.message}`);
  }
  return result.finding;
}

export function expectRejected(result: ParseResult, reason: RejectReason): string {
  if (result.status !== "rejected") {
    const got = result.status === "finding" ? "a finding" : `ignored ${result.reason}`;
    expect.fail(`expected rejected ${reason}, got ${got}`);
  }
  expect(result.reason, result.message).toBe(reason);
  return result.message;
}

export function expectIgnored(result: ParseResult, reason: IgnoreReason): string {
  if (result.status !== "ignored") {
    const got = result.status === "finding" ? "a finding" : `rejected ${result.reason}: ${result.message}`;
    expect.fail(`expected ignored ${reason}, got ${got}`);
  }
  expect(result.reason, result.message).toBe(reason);
  return result.message;
}

/** The string at `key` of a fixture object (fails the test if it is not a string). */
export function stringAt(obj: JsonObject, key: string): string {
  const value = obj[key];
  if (typeof value !== "string") expect.fail(`fixture field ${key} is not a string`);
  return value;
}
