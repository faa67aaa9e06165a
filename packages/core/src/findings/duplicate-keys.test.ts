// A body in which one object holds the same key twice is ambiguous: JSON.parse keeps the last
// value, a filter or parser keeping the first would see another finding. Such bodies are refused
// as invalid_json, naming the key and where it is, at any depth and in either envelope.
import { describe, expect, it } from "vitest";
import { eventBridgeEvent, instanceFinding, snsWrap } from "@gdr/samples/findings";
import { parseMessageBody } from "./index.js";
import { scanJson } from "./json-scan.js";
import { expectFinding, expectRejected } from "@gdr/samples/parse-helpers";

const INSTANCE = "i-0a1b2c3d4e5f60718";
const OTHER = "i-0fedcba9876543210";

function eventText(): string {
  return JSON.stringify(eventBridgeEvent(instanceFinding({ instanceId: INSTANCE, severity: 8 })));
}

/** Replaces the one occurrence of `find` in `text` (fails if there is not exactly one). */
function replaceOnce(text: string, find: string, replacement: string): string {
  const at = text.indexOf(find);
  expect(at, `"${find}" in the fixture`).toBeGreaterThanOrEqual(0);
  expect(text.indexOf(find, at + 1), `a second "${find}" in the fixture`).toBe(-1);
  return text.slice(0, at) + replacement + text.slice(at + find.length);
}

describe("duplicated JSON keys", () => {
  it("the fixture without a duplicate is a finding (the tests below change only the duplicate)", () => {
    expect(expectFinding(parseMessageBody(eventText())).resourceKey).toBe(INSTANCE);
  });

  it("refuses two instanceId members in the nested instanceDetails, naming the key and its path", () => {
    const body = replaceOnce(eventText(), `"instanceId":"${INSTANCE}"`, `"instanceId":"${OTHER}","instanceId":"${INSTANCE}"`);
    const message = expectRejected(parseMessageBody(body), "invalid_json");
    expect(message).toContain('"instanceId"');
    expect(message).toContain("$.detail.resource.instanceDetails");
  });

  it("refuses two resourceType members (the second would change which playbook runs)", () => {
    const body = replaceOnce(eventText(), `"resourceType":"Instance"`, `"resourceType":"S3Bucket","resourceType":"Instance"`);
    expect(expectRejected(parseMessageBody(body), "invalid_json")).toMatch(/\$\.detail\.resource has the key "resourceType"/);
  });

  it("refuses a duplicated key at the top level of the EventBridge envelope", () => {
    const text = eventText();
    const body = `{"detail-type":"Not A Finding",${text.slice(1)}`;
    expect(expectRejected(parseMessageBody(body), "invalid_json")).toMatch(/message body: \$ has the key "detail-type"/);
  });

  it("treats an escaped key as the key it decodes to: instance\\u0049d duplicates instanceId", () => {
    const body = replaceOnce(eventText(), `"instanceId":"${INSTANCE}"`, `"instance\\u0049d":"${OTHER}","instanceId":"${INSTANCE}"`);
    expect(JSON.parse(body)).toBeTruthy();
    expect(expectRejected(parseMessageBody(body), "invalid_json")).toContain('"instanceId"');
  });

  it("refuses a duplicated key inside the SNS Message string, naming the SNS Message", () => {
    const inner = replaceOnce(eventText(), `"instanceId":"${INSTANCE}"`, `"instanceId":"${OTHER}","instanceId":"${INSTANCE}"`);
    const wrapped = snsWrap(eventBridgeEvent(instanceFinding()));
    const body = JSON.stringify({ ...wrapped, Message: inner });
    const message = expectRejected(parseMessageBody(body), "invalid_json");
    expect(message).toMatch(/^SNS Message: \$\.detail\.resource\.instanceDetails has the key "instanceId"/);
  });

  it("refuses a duplicated key in the SNS notification itself (two Message members)", () => {
    const wrapped = JSON.stringify(snsWrap(eventBridgeEvent(instanceFinding())));
    const body = `{"Message":${JSON.stringify(eventText())},${wrapped.slice(1)}`;
    expect(expectRejected(parseMessageBody(body), "invalid_json")).toContain('"Message"');
  });

  it("names array indexes in the path", () => {
    const result = scanJson('{"a":[{"x":1},{"y":2,"y":3}]}', 32);
    expect(result.duplicate).toEqual({ key: "y", path: ["a", 1] });
    expect(expectRejected(parseMessageBody('{"a":[{"x":1},{"y":2,"y":3}]}'), "invalid_json")).toContain("$.a[1]");
  });

  it("does not confuse values, keys of sibling objects or keys in strings with duplicates", () => {
    const text = JSON.stringify({
      a: "a",
      b: { a: 1, b: [{ a: 1 }, { a: 2 }] },
      c: '{"a":1,"a":2}',
      d: ["a", "a"],
      "e\\": { "e\\": 1 },
    });
    expect(scanJson(text, 32).duplicate).toBeNull();
  });

  it("reports invalid JSON as not_json, not as a duplicate", () => {
    expectRejected(parseMessageBody('{"a":1,"a":'), "not_json");
  });

  it("finds the one duplicate among 20,000 keys of one object, and none among 20,000 small objects", () => {
    const wide = `{${Array.from({ length: 20_000 }, (_, i) => `"k${i}":${i}`).join(",")},"k7":0}`;
    expect(scanJson(wide, 32).duplicate).toEqual({ key: "k7", path: [] });
    const many = `[${Array.from({ length: 20_000 }, () => '{"a":1,"b":2}').join(",")}]`;
    expect(scanJson(many, 32)).toEqual({ deepest: 2, duplicate: null });
  });
});
