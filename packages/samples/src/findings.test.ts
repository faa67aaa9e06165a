import { describe, expect, it } from "vitest";
import {
  accessKeyFinding,
  containerFinding,
  ecsFinding,
  eksFinding,
  eventBridgeEvent,
  instanceFinding,
  s3Finding,
  snsWrap,
  type FindingOptions,
  type JsonObject,
} from "@gdr/samples/findings";
import { FINDING_ID } from "@gdr/core/findings/patterns";
import { expectFinding, parseDetail, parseJson } from "@gdr/samples/parse-helpers";

const builders: [string, (o?: FindingOptions) => JsonObject][] = [
  ["instanceFinding", instanceFinding],
  ["eksFinding", eksFinding],
  ["ecsFinding", ecsFinding],
  ["containerFinding", containerFinding],
  ["accessKeyFinding", accessKeyFinding],
  ["s3Finding", s3Finding],
];

describe("fixtures", () => {
  it.each(builders)("%s builds a finding the parser accepts, directly and through SNS", (_name, build) => {
    const detail = build();
    expect(expectFinding(parseDetail(detail)).id).toBe(detail["id"]);
    expect(expectFinding(parseJson(snsWrap(eventBridgeEvent(detail)))).envelope).toBe("sns");
    expect(expectFinding(parseDetail(build({ sample: true }))).sample).toBe(true);
  });

  it("gives the same finding for the same seed and different ones otherwise", () => {
    const a = instanceFinding({ seed: "demo-1", createdAt: "2024-11-05T09:00:00Z" });
    const b = instanceFinding({ seed: "demo-1", createdAt: "2024-11-05T09:00:00Z" });
    const c = instanceFinding({ seed: "demo-2", createdAt: "2024-11-05T09:00:00Z" });
    expect(a).toEqual(b);
    expect(c["id"]).not.toBe(a["id"]);
  });

  it("randomises ids so that many findings never collide", () => {
    const ids = new Set<string>();
    const keys = new Set<string | null>();
    for (let i = 0; i < 500; i++) {
      const f = expectFinding(parseDetail(instanceFinding()));
      expect(FINDING_ID.regex.test(f.id)).toBe(true);
      ids.add(f.id);
      keys.add(f.resourceKey);
    }
    expect(ids.size).toBe(500);
    expect(keys.size).toBe(500);
  });
});
