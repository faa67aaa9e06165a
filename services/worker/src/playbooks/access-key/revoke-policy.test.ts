import { describe, expect, it } from "vitest";
import { CUTOFF_PLACEHOLDER, cutoffAt, cutoffFor, decodePolicyDocument, endsSessionIssuedAt, revokeCutoffOf, revokeDocument, revokeDocumentText } from "./revoke-policy.js";

describe("the revocation cutoff", () => {
  it("is the next whole second, so a session issued earlier in the same second is ended", () => {
    expect(cutoffAt(new Date("2026-12-05T03:40:12.001Z"))).toBe("2026-12-05T03:40:13Z");
    expect(cutoffAt(new Date("2026-12-05T03:40:12.999Z"))).toBe("2026-12-05T03:40:13Z");
    expect(cutoffAt(new Date("2026-12-05T03:40:12.000Z"))).toBe("2026-12-05T03:40:12Z");
  });

  it("ends sessions issued before it and spares those issued at or after it (DateLessThan is strict)", () => {
    const now = new Date("2026-12-05T03:40:12.400Z");
    const cutoff = cutoffAt(now);
    expect(endsSessionIssuedAt(cutoff, new Date("2026-12-05T03:40:12.300Z"))).toBe(true); // the stolen session
    expect(endsSessionIssuedAt(cutoff, new Date("2026-12-04T15:00:00Z"))).toBe(true); // a day-old one
    expect(endsSessionIssuedAt(cutoff, new Date("2026-12-05T03:40:13.000Z"))).toBe(false); // assumed again after
    expect(endsSessionIssuedAt(cutoff, new Date("2026-12-05T03:41:00Z"))).toBe(false);
  });

  it("is the time act runs, and a placeholder in plan and dry-run mode", () => {
    const at = () => new Date("2026-12-05T03:40:12.400Z");
    expect(cutoffFor({ mode: "act" }, at)).toBe("2026-12-05T03:40:13Z");
    expect(cutoffFor({ mode: "plan" }, at)).toBe(CUTOFF_PLACEHOLDER);
    expect(cutoffFor({ mode: "dry_run" }, at)).toBe(CUTOFF_PLACEHOLDER);
  });
});

describe("the revocation document", () => {
  const cutoff = "2026-12-05T03:40:13Z";

  it("denies every action on every resource for sessions issued before the cutoff", () => {
    expect(revokeDocument(cutoff)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "GuardDutyResponderRevokeSessionsIssuedBeforeCutoff",
          Effect: "Deny",
          Action: "*",
          Resource: "*",
          Condition: { DateLessThan: { "aws:TokenIssueTime": cutoff } },
        },
      ],
    });
  });

  it("reads back its cutoff, plain or URL-encoded as IAM answers GetRolePolicy", () => {
    const text = revokeDocumentText(cutoff);
    expect(revokeCutoffOf(decodePolicyDocument(text))).toBe(cutoff);
    expect(revokeCutoffOf(decodePolicyDocument(encodeURIComponent(text)))).toBe(cutoff);
  });

  it("is not taken for ours when anything differs", () => {
    const changed = (edit: (doc: ReturnType<typeof revokeDocument>) => unknown): string | null => revokeCutoffOf(edit(structuredClone(revokeDocument(cutoff))));
    expect(changed((d) => ({ ...d, Statement: [...d.Statement, { Effect: "Allow", Action: "*", Resource: "*" }] }))).toBeNull();
    expect(changed((d) => ({ ...d, Statement: [{ ...d.Statement[0], Sid: "AWSRevokeOlderSessions" }] }))).toBeNull();
    expect(changed((d) => ({ ...d, Statement: [{ ...d.Statement[0], Effect: "Allow" }] }))).toBeNull();
    expect(changed((d) => ({ ...d, Statement: [{ ...d.Statement[0], Action: "s3:*" }] }))).toBeNull();
    expect(changed((d) => ({ ...d, Statement: [{ ...d.Statement[0], Condition: { DateGreaterThan: { "aws:TokenIssueTime": cutoff } } }] }))).toBeNull();
    expect(changed((d) => ({ ...d, Statement: [{ ...d.Statement[0], Condition: { DateLessThan: { "aws:TokenIssueTime": CUTOFF_PLACEHOLDER } } }] }))).toBeNull();
    expect(changed((d) => ({ ...d, Version: "2008-10-17" }))).toBeNull();
    expect(revokeCutoffOf(decodePolicyDocument("not json"))).toBeNull();
  });
});
