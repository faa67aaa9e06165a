import { describe, expect, it } from "vitest";
import { deleteIn, eventBridgeEvent, instanceFinding, newFindingId, setIn } from "@gdr/samples/findings";
import { parseMessageBody } from "./index.js";
import { expectFinding, expectRejected, parseDetail, stringAt } from "@gdr/samples/parse-helpers";

describe("finding fields", () => {
  it("parses the top-level fields of a GuardDuty finding", () => {
    const detail = instanceFinding({
      severity: 8.5,
      count: 3,
      createdAt: "2024-11-05T09:12:44.518Z",
      updatedAt: "2024-11-05T10:00:00.000Z",
    });
    const f = expectFinding(parseDetail(detail));
    expect(f).toMatchObject({
      id: detail["id"],
      arn: detail["arn"],
      accountId: "111122223333",
      region: "us-east-1",
      partition: "aws",
      type: "CryptoCurrency:Runtime/BitcoinTool.B!DNS",
      severity: 8.5,
      count: 3,
      archived: false,
      sample: false,
      resourceType: "Instance",
    });
    expect(f.createdAt.toISOString()).toBe("2024-11-05T09:12:44.518Z");
    expect(f.updatedAt.toISOString()).toBe("2024-11-05T10:00:00.000Z");
    expect(f.firstSeen?.toISOString()).toBe("2024-11-05T09:12:44.518Z");
    expect(f.lastSeen?.toISOString()).toBe("2024-11-05T10:00:00.000Z");
    expect(f.description).toMatch(/Bitcoin/);
  });

  it("keeps the finding exactly as received in `detail`, unknown fields included", () => {
    const detail = setIn(instanceFinding(), ["service", "someFutureField"], { nested: [1, 2, 3] });
    const f = expectFinding(parseDetail(detail));
    expect(f.detail).toEqual(detail);
  });

  it("parses a later update of the same finding (same id, higher count, later updatedAt)", () => {
    const id = newFindingId();
    const first = expectFinding(parseDetail(instanceFinding({ id, seed: id, count: 1, createdAt: "2024-11-05T09:00:00Z" })));
    const again = expectFinding(
      parseDetail(instanceFinding({ id, seed: id, count: 7, createdAt: "2024-11-05T09:00:00Z", updatedAt: "2024-11-05T13:30:00Z" })),
    );
    expect(again.id).toBe(first.id);
    expect(again.resourceKey).toBe(first.resourceKey);
    expect(again.count).toBe(7);
    expect(again.updatedAt.getTime()).toBeGreaterThan(first.updatedAt.getTime());
  });

  it("parses archived findings as archived (policy routing ignores them, not the parser)", () => {
    expect(expectFinding(parseDetail(instanceFinding({ archived: true }))).archived).toBe(true);
  });

  it.each([true, "true"])("parses sample findings (additionalInfo.sample = %j) as sample", (sample) => {
    const f = expectFinding(parseDetail(instanceFinding({ sample })));
    expect(f.sample).toBe(true);
    expect(f.title.startsWith("[SAMPLE]")).toBe(true);
  });

  it("accepts null for optional fields, as GuardDuty writes them", () => {
    const detail = setIn(instanceFinding(), ["description"], null);
    setIn(detail, ["service", "archived"], null);
    setIn(detail, ["resource", "instanceDetails", "imageId"], null);
    const f = expectFinding(parseDetail(detail));
    expect(f.description).toBeUndefined();
    expect(f.archived).toBe(false);
    expect(f.resource).not.toHaveProperty("imageId");
  });

  it("accepts epoch seconds and epoch milliseconds for createdAt/updatedAt", () => {
    const detail = setIn(instanceFinding(), ["createdAt"], 1_730_797_964);
    setIn(detail, ["updatedAt"], 1_730_797_964_518);
    const f = expectFinding(parseDetail(detail));
    expect(f.createdAt.toISOString()).toBe("2024-11-05T09:12:44.000Z");
    expect(f.updatedAt.toISOString()).toBe("2024-11-05T09:12:44.518Z");
  });

  it.each([
    ["garbage", "last tuesday"],
    ["a boolean", true],
    ["out of range", "1970-01-01T00:00:00Z"],
  ])("rejects a createdAt that is %s", (_label, value) => {
    expect(expectRejected(parseDetail(setIn(instanceFinding(), ["createdAt"], value)), "invalid_finding")).toContain(
      "detail.createdAt",
    );
  });

  it("rejects a finding updated before it was created", () => {
    const detail = instanceFinding({ createdAt: "2024-11-05T10:00:00Z", updatedAt: "2024-11-05T09:00:00Z" });
    expectRejected(parseDetail(detail), "invalid_finding");
  });

  it("rejects a garbage service.eventLastSeen", () => {
    const detail = setIn(instanceFinding(), ["service", "eventLastSeen"], "soon");
    expect(expectRejected(parseDetail(detail), "invalid_finding")).toContain("detail.service.eventLastSeen");
  });
});

describe("severity", () => {
  it.each([1, 1.0, 5.5, 9.9, 10])("accepts %s", (severity) => {
    expect(expectFinding(parseDetail(instanceFinding({ severity }))).severity).toBe(severity);
  });

  it.each([
    ["0", 0],
    ["10.5", 10.5],
    ["negative", -3],
    ['the string "8" (GuardDuty sends a number; strings are refused)', "8"],
    ['the string "NaN"', "NaN"],
    ["null", null],
  ])("rejects %s", (_label, severity) => {
    expect(expectRejected(parseDetail(setIn(instanceFinding(), ["severity"], severity)), "invalid_finding")).toContain(
      "detail.severity",
    );
  });

  it("rejects a missing severity", () => {
    expectRejected(parseDetail(deleteIn(instanceFinding(), ["severity"])), "invalid_finding");
  });
});

describe("finding identity and consistency", () => {
  it("rejects when the finding ARN's account differs from detail.accountId (forged finding)", () => {
    const detail = instanceFinding();
    setIn(detail, ["arn"], stringAt(detail, "arn").replace(":111122223333:", ":999988887777:"));
    expect(expectRejected(parseDetail(detail), "account_mismatch")).toMatch(/999988887777.*111122223333/);
  });

  it("rejects when the finding ARN's region differs from detail.region", () => {
    const detail = instanceFinding();
    setIn(detail, ["arn"], stringAt(detail, "arn").replace(":us-east-1:", ":eu-west-1:"));
    expect(expectRejected(parseDetail(detail), "invalid_finding")).toContain("region");
  });

  it("rejects when the finding ARN names another finding id", () => {
    const detail = instanceFinding();
    setIn(detail, ["arn"], stringAt(detail, "arn").replace(/finding\/[0-9a-f]{32}$/, `finding/${newFindingId()}`));
    expectRejected(parseDetail(detail), "invalid_finding");
  });

  it.each([
    ["uppercase hex", "ABCDEF0123456789ABCDEF0123456789"],
    ["too short", "abc123"],
    ["path characters", "../../etc/passwd0000000000000000"],
  ])("rejects a finding id that is %s", (_label, id) => {
    expect(expectRejected(parseDetail(setIn(instanceFinding(), ["id"], id)), "invalid_identifier")).toContain("detail.id");
  });

  it("rejects an account id written with fullwidth digits", () => {
    const detail = instanceFinding({ accountId: "１１１１２２２２３３３３" });
    const message = expectRejected(parseDetail(detail, { account: "111122223333" }), "invalid_identifier");
    expect(message).toContain("detail.accountId");
    expect(message).toContain("\\uff11");
  });

  it.each([
    ["an unknown region shape", "region"],
    ["an uppercase region", "US-EAST-1"],
  ])("rejects %s", (_label, region) => {
    expect(expectRejected(parseDetail(setIn(instanceFinding(), ["region"], region)), "invalid_identifier")).toContain(
      "detail.region",
    );
  });

  it("rejects an unknown partition", () => {
    expectRejected(parseDetail(setIn(instanceFinding(), ["partition"], "azure")), "invalid_identifier");
  });

  it("rejects a finding type that is not GuardDuty's ThreatPurpose:Resource/Family form", () => {
    expectRejected(parseDetail(setIn(instanceFinding(), ["type"], "rm -rf /")), "invalid_finding");
  });
});

describe("size caps", () => {
  it("rejects a title over 1024 characters and a description over 8192", () => {
    expect(expectRejected(parseDetail(setIn(instanceFinding(), ["title"], "t".repeat(1025))), "invalid_finding")).toContain(
      "detail.title",
    );
    expectRejected(parseDetail(setIn(instanceFinding(), ["description"], "d".repeat(8193))), "invalid_finding");
  });

  it("rejects more than 64 network interfaces and more than 256 tags", () => {
    expect(expectRejected(parseDetail(instanceFinding({ eniCount: 65 })), "invalid_finding")).toContain("networkInterfaces");
    const tags = Array.from({ length: 257 }, (_, i) => ({ key: `k${i}`, value: "v" }));
    expectRejected(parseDetail(instanceFinding({ tags })), "invalid_finding");
  });

  it("accepts 64 network interfaces", () => {
    const f = expectFinding(parseDetail(instanceFinding({ eniCount: 64 })));
    expect(f.resource.type === "Instance" && f.resource.networkInterfaces).toHaveLength(64);
  });

  it("never echoes more than a short prefix of hostile input in messages", () => {
    const hostile = "i-" + "A".repeat(1500);
    const detail = setIn(instanceFinding(), ["resource", "instanceDetails", "instanceId"], hostile);
    const message = expectRejected(parseDetail(detail), "invalid_identifier");
    expect(message.length).toBeLessThan(300);
    expect(message).not.toContain("A".repeat(100));
    expect(message).toContain("(1502 chars)");
  });

  it("rejects a finding missing required top-level fields with the field path", () => {
    expect(expectRejected(parseDetail(deleteIn(instanceFinding(), ["title"])), "invalid_finding")).toContain("detail.title");
    expect(expectRejected(parseDetail(deleteIn(instanceFinding(), ["service"])), "invalid_finding")).toContain(
      "detail.service",
    );
    expect(expectRejected(parseDetail(deleteIn(instanceFinding(), ["resource"])), "invalid_finding")).toContain(
      "detail.resource",
    );
  });

  it("rejects a count below 1 or not a whole number", () => {
    expectRejected(parseDetail(instanceFinding({ count: 0 })), "invalid_finding");
    expectRejected(parseDetail(instanceFinding({ count: 2.5 })), "invalid_finding");
  });

  it("returns a result (never throws) for a finding full of wrong types", () => {
    const body = JSON.stringify(eventBridgeEvent({ id: 1, arn: [], resource: "x", service: 7, severity: {} }));
    expect(() => parseMessageBody(body)).not.toThrow();
    expectRejected(parseMessageBody(body), "invalid_finding");
  });
});
