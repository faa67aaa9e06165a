import { describe, expect, it } from "vitest";
import { userSessionToken } from "./escalations.js";
import { revokeEffect } from "./revoke-policy.js";
import { instanceSourceOf } from "./session-source.js";

const EXFILTRATION = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS";

describe("what the plan says a revocation does", () => {
  it("says sessions issued after the cutoff work, the attacker's too while the source still hands out credentials", () => {
    const effect = revokeEffect("app-server-role", null);
    expect(effect).toMatch(/^every session of role app-server-role issued before the cutoff is denied every action/);
    expect(effect).toMatch(/Sessions issued after the cutoff work, including the attacker's if they can still get credentials at the source \(an instance profile, a CI secret\)/);
    expect(effect).toMatch(/the source must be contained too/);
  });

  it("names the instance of an instance-profile session and says its own remediation cuts the source", () => {
    const effect = revokeEffect("app-server-role", "i-0123456789abcdef0");
    expect(effect).toMatch(/instance i-0123456789abcdef0's instance profile/);
    expect(effect).toMatch(/the instance's own remediation \(isolating it\) is what cuts the source/);
  });

  it("finds the instance from the session name (AROA…:i-…) or from the finding type", () => {
    expect(instanceSourceOf("i-0123456789abcdef0", "UnauthorizedAccess:IAMUser/MaliciousIPCaller")).toBe("i-0123456789abcdef0");
    expect(instanceSourceOf("i-12345678", EXFILTRATION)).toBe("i-12345678");
    expect(instanceSourceOf("alice", "UnauthorizedAccess:IAMUser/MaliciousIPCaller")).toBeNull();
    // The type says instance credentials, the session name names no instance: said without a name.
    expect(instanceSourceOf("alice", EXFILTRATION)).toBe("an instance");
    expect(instanceSourceOf(null, EXFILTRATION)).toBe("an instance");
  });
});

describe("the user_session_token escalation", () => {
  it("says a TokenIssueTime deny on the user leaves requests signed with the long-term key alone", () => {
    const reason = userSessionToken("ASIAY34FZKBOKMUTVV7A", "alice").reason;
    expect(reason).not.toMatch(/also stops the user's own work/);
    expect(reason).toMatch(/requests signed with the user's long-term access keys carry no token issue time and are not affected/);
  });
});
