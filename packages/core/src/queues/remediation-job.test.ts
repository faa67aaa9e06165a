import { describe, expect, it } from "vitest";
import { remediationJob, remediationJobInput, type RemediationJobSource } from "./remediation-job.js";

const row: RemediationJobSource = {
  id: "9b2f3c1e-8a4d-4f6b-9c2d-1e3f5a7b9c0d",
  findingId: "0123456789abcdef0123456789abcdef",
  playbook: "instance",
  mode: "approval",
  accountId: "123456789012",
  region: "eusc-de-east-1",
  resourceKey: "i-0123456789abcdef0",
};

describe("remediationJob", () => {
  it("maps a remediation to the payload of each of its actions", () => {
    for (const action of ["contain", "continue", "evidence", "release"] as const) {
      expect(remediationJob(row, action)).toEqual({
        remediationId: row.id,
        findingId: row.findingId,
        playbook: "instance",
        mode: "approval",
        accountId: row.accountId,
        region: "eusc-de-east-1",
        resourceKey: row.resourceKey,
        action,
      });
    }
  });

  it("refuses a row whose identifiers fail the catalog's schema; the unvalidated input is the same mapping", () => {
    const bad = { ...row, playbook: "no-such-playbook" };
    expect(() => remediationJob(bad, "contain")).toThrow(/playbook/);
    expect(remediationJobInput(bad, "contain")).toMatchObject({ playbook: "no-such-playbook", remediationId: row.id, action: "contain" });
    expect(remediationJobInput(row, "release")).toEqual(remediationJob(row, "release"));
  });
});
