import { describe, expect, it } from "vitest";
import { dryRunPlanSchema, frozenPlanSchema, storedPlanSchema, type FrozenPlan } from "./plan.js";
import { planAction, planIsDestructive, planReleaseFrom, planStepNames, statusAfterDecline } from "./plan-fields.js";

const release: FrozenPlan = {
  remediationId: "4f9c2a56-0d1e-4f7a-9b3c-2a1d0e9f8c7b",
  action: "release",
  frozenAt: "2026-01-02T03:04:05.678Z",
  ifDeclined: "contained",
  releaseFrom: "failed",
  steps: [
    { name: "reactivate-key", destructive: false, calls: [{ service: "iam", operation: "UpdateAccessKey", params: { UserName: "alice", AccessKeyId: "AKIAEXAMPLE", Status: "Active" } }] },
    { name: "restart-pod", destructive: true, calls: [{ service: "kubernetes", operation: "DeletePod", params: { namespace: "default", name: "web-1", grace: null, labels: ["a", { b: 1 }] } }] },
  ],
};

describe("frozen plan schema", () => {
  it("reads a plan as the worker freezes it, for any client name, and hands it back unchanged", () => {
    expect(frozenPlanSchema.parse(release)).toEqual(release);
    expect(storedPlanSchema.parse(release)).toEqual(release);
  });

  it("refuses what an approver could not see in full: an unknown field, a missing decision outcome, a non-JSON parameter", () => {
    expect(frozenPlanSchema.safeParse({ ...release, extra: true }).success).toBe(false);
    const { ifDeclined: _ifDeclined, ...withoutOutcome } = release;
    expect(frozenPlanSchema.safeParse(withoutOutcome).success).toBe(false);
    const call = { service: "ec2", operation: "CreateTags", params: { When: new Date() } };
    expect(frozenPlanSchema.safeParse({ ...release, steps: [{ name: "tag", destructive: false, calls: [call] }] }).success).toBe(false);
    expect(frozenPlanSchema.safeParse({ ...release, action: "contain" }).success).toBe(false);
  });

  it("tells a dry run's record from a frozen plan", () => {
    const dryRun = {
      remediationId: release.remediationId,
      steps: [{ name: "isolate", destructive: false, calls: [], permissions: [{ permitted: true, detail: "DryRun: permitted" }] }],
    };
    expect(dryRunPlanSchema.parse(dryRun)).toEqual(dryRun);
    expect(frozenPlanSchema.safeParse(dryRun).success).toBe(false);
    expect(dryRunPlanSchema.safeParse(release).success).toBe(false);
  });
});

describe("plan fields", () => {
  it("reads each field of a plan", () => {
    expect(planAction(release)).toBe("release");
    expect(planReleaseFrom(release)).toBe("failed");
    expect(planStepNames(release)).toEqual(["reactivate-key", "restart-pod"]);
    expect(planIsDestructive(release)).toBe(true);
    expect(statusAfterDecline(release, "rejected")).toBe("failed");
    const contain = { ...release, action: "continue", ifDeclined: "nothing_done", steps: [release.steps[0]] };
    expect(planIsDestructive(contain)).toBe(false);
    expect(planReleaseFrom(contain)).toBeNull();
    expect(statusAfterDecline(contain, "expired")).toBe("expired");
    expect(statusAfterDecline({ ...contain, ifDeclined: "contained" }, "rejected")).toBe("succeeded");
  });

  it("reads an unreadable field as the safe answer, and the others still", () => {
    const broken = { action: "continue", ifDeclined: 7, steps: [{ name: "isolate", destructive: "no" }, { name: 3 }] };
    expect(planAction(broken)).toBe("continue");
    expect(statusAfterDecline(broken, "rejected")).toBe("rejected");
    expect(planStepNames(broken)).toEqual(["isolate"]);
    expect(planIsDestructive(broken)).toBe(true);
    expect(planIsDestructive(null)).toBe(true);
    expect(planAction({ action: "contain" })).toBeNull();
    expect(planReleaseFrom({ action: "release", releaseFrom: "queued" })).toBeNull();
  });
});
