import { describe, expect, it } from "vitest";
import { eventBridgeEvent, instanceFinding } from "@gdr/samples/findings";
import { DEFAULT_PARSE_OPTIONS, parseMessageBody } from "./index.js";
import { scanJson } from "./json-scan.js";
import { parseSafeJson } from "./safe-json.js";
import { expectFinding, expectRejected } from "@gdr/samples/parse-helpers";

const opts = DEFAULT_PARSE_OPTIONS;

describe("parseSafeJson", () => {
  it("parses an ordinary object", () => {
    expect(parseSafeJson('{"a":[1,{"b":"c"}]}', opts)).toEqual({ ok: true, value: { a: [1, { b: "c" }] } });
  });

  it("refuses 10,000 levels of nesting without throwing (linear scan before JSON.parse)", () => {
    const body = "[".repeat(10_000) + "]".repeat(10_000);
    expect(() => parseMessageBody(body)).not.toThrow();
    expectRejected(parseMessageBody(body), "too_deep");
    const objects = '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000);
    expectRejected(parseMessageBody(objects), "too_deep");
  });

  it("does not count brackets inside strings as nesting", () => {
    const text = JSON.stringify({ s: "[[[[{{{{".repeat(100), t: 'quote \\" [[[' });
    expect(scanJson(text, 32).deepest).toBe(1);
    expect(parseSafeJson(text, opts).ok).toBe(true);
  });

  it("accepts nesting exactly at the limit and refuses one more level", () => {
    const at = "[".repeat(32) + "]".repeat(32);
    expect(parseSafeJson(at, opts).ok).toBe(true);
    const over = "[".repeat(33) + "]".repeat(33);
    expect(parseSafeJson(over, opts)).toMatchObject({ ok: false, reason: "too_deep" });
  });

  it("measures size in UTF-8 bytes, so multi-byte characters count in full", () => {
    // 140,000 'é' are 140,000 UTF-16 units (under the cap) but 280,000 UTF-8 bytes (over it).
    const body = JSON.stringify({ note: "é".repeat(140_000) });
    expect(body.length).toBeLessThan(opts.maxBytes);
    expect(expectRejected(parseMessageBody(body), "body_too_large")).toMatch(/bytes/);
  });

  it("refuses an oversize ASCII body before parsing it", () => {
    const body = JSON.stringify({ pad: "x".repeat(300_000) });
    expectRejected(parseMessageBody(body), "body_too_large");
  });

  it("accepts a body of exactly maxBytes and refuses one byte less of allowance", () => {
    const body = JSON.stringify(eventBridgeEvent(instanceFinding({ title: "Zürich ☃ finding" })));
    const bytes = Buffer.byteLength(body, "utf8");
    expectFinding(parseMessageBody(body, { maxBytes: bytes, maxDepth: 32 }));
    expectRejected(parseMessageBody(body, { maxBytes: bytes - 1, maxDepth: 32 }), "body_too_large");
  });

  it.each([
    ["__proto__ at the top", '{"__proto__":{"polluted":true}}'],
    ["constructor deep inside", '{"a":{"b":[{"c":{"constructor":{"prototype":{}}}}]}}'],
    ["prototype in an array element", '[{"ok":1},{"prototype":1}]'],
  ])("refuses the hostile key %s", (_label, text) => {
    const result = parseSafeJson(text, opts);
    expect(result).toMatchObject({ ok: false, reason: "hostile_key" });
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("names where the hostile key is", () => {
    const detail = instanceFinding();
    const body = JSON.stringify(eventBridgeEvent(detail)).replace('"instanceType"', '"__proto__"');
    expect(expectRejected(parseMessageBody(body), "hostile_key")).toContain("$.detail.resource.instanceDetails");
  });

  it("refuses NUL characters: raw, escaped in a value, escaped in a key", () => {
    expect(parseSafeJson('{"a":"x\u0000y"}', opts)).toMatchObject({ ok: false, reason: "invalid_characters" });
    expect(parseSafeJson('{"a":"x\\u0000y"}', opts)).toMatchObject({ ok: false, reason: "invalid_characters" });
    expect(parseSafeJson('{"k\\u0000":1}', opts)).toMatchObject({ ok: false, reason: "invalid_characters" });
  });

  it("allows the six characters \\u0000 as text (an escaped backslash)", () => {
    expect(parseSafeJson('{"a":"C:\\\\u0000"}', opts)).toEqual({ ok: true, value: { a: "C:\\u0000" } });
  });

  it("refuses unpaired UTF-16 surrogates, which Postgres jsonb cannot store", () => {
    expect(parseSafeJson('{"a":"\\ud800x"}', opts)).toMatchObject({ ok: false, reason: "invalid_characters" });
    expect(parseSafeJson('{"a":"\\ud83d\\ude00"}', opts).ok).toBe(true);
  });

  it.each([
    ["plain text", "hello"],
    ["a truncated event", JSON.stringify(eventBridgeEvent(instanceFinding())).slice(0, 500)],
    ["an empty body", ""],
    ["NaN, which JSON does not have", '{"severity":NaN}'],
  ])("refuses %s as not_json", (_label, body) => {
    expectRejected(parseMessageBody(body), "not_json");
  });
});
