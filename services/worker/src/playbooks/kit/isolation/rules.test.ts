import type { SecurityGroup } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { hasNoRules, hasServiceEgress, hasServiceName, isTagged, unexpectedRules } from "./rules.js";

const allV4 = { IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] };
const allV6 = { IpProtocol: "-1", Ipv6Ranges: [{ CidrIpv6: "::/0" }] };

function group(over: Partial<SecurityGroup>): SecurityGroup {
  return { GroupId: "sg-0123456789abcdef0", IpPermissions: [], IpPermissionsEgress: [], ...over };
}

describe("isolation group rules", () => {
  it("tells the two roles apart by their tag value", () => {
    const containment = group({ Tags: [{ Key: "guardduty-responder:role", Value: "isolation" }] });
    const transit = group({ Tags: [{ Key: "guardduty-responder:role", Value: "isolation-transit" }] });
    expect([isTagged(containment, "containment"), isTagged(containment, "transit")]).toEqual([true, false]);
    expect([isTagged(transit, "containment"), isTagged(transit, "transit")]).toEqual([false, true]);
  });

  it("accepts only all-traffic egress (the transit rule, a new group's defaults) as ours", () => {
    expect(unexpectedRules(group({ IpPermissionsEgress: [allV4, allV6] }))).toEqual([]);
    expect(hasServiceEgress(group({ IpPermissionsEgress: [allV6] }))).toBe(true);
    expect(unexpectedRules(group({ IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] }))).toEqual([
      "ingress tcp 22-22 0.0.0.0/0",
    ]);
    expect(unexpectedRules(group({ IpPermissionsEgress: [{ IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "198.51.100.7/32" }] }] }))).toEqual([
      "egress tcp 443-443 198.51.100.7/32",
    ]);
    expect(unexpectedRules(group({ IpPermissionsEgress: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "10.0.0.0/8" }] }] }))).toHaveLength(1);
  });

  it("calls a group with an empty permission list rule-less, and one with any range not", () => {
    expect(hasNoRules(group({ IpPermissionsEgress: [{ IpProtocol: "-1", IpRanges: [] }] }))).toBe(true);
    expect(hasNoRules(group({ IpPermissionsEgress: [allV4] }))).toBe(false);
  });

  it("takes a group as the service's only under a name it gives its groups (a tag can be put on a production group, a name cannot change)", () => {
    expect(hasServiceName(group({ GroupName: "guardduty-responder-isolation" }), "containment")).toBe(true);
    expect(hasServiceName(group({ GroupName: "guardduty-responder-isolation-0a1b2c3d4e5f" }), "containment")).toBe(true);
    expect(hasServiceName(group({ GroupName: "guardduty-responder-transit" }), "transit")).toBe(true);
    expect(hasServiceName(group({ GroupName: "guardduty-responder-transit" }), "containment")).toBe(false);
    expect(hasServiceName(group({ GroupName: "prod-web" }), "containment")).toBe(false);
    expect(hasServiceName(group({ GroupName: "guardduty-responder-isolation-prod" }), "containment")).toBe(false);
    expect(hasServiceName(group({}), "transit")).toBe(false);
  });
});
