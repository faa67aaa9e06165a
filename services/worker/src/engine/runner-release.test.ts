// Release without AWS: only a contained remediation can be released, only after a person approves
// the frozen release plan, and the release sends exactly that plan's calls.
import { describe, expect, it } from "vitest";
import { Firewall, firewallClients, firewallPlaybook } from "./testing/firewall-playbook.js";
import { createEngineWorld } from "./testing/world.js";

const RESOURCE = "res-0002";

function setUp() {
  const firewall = new Firewall();
  firewall.add(RESOURCE);
  const world = createEngineWorld(firewallPlaybook(firewallClients(firewall)));
  return { firewall, world };
}

describe("release", () => {
  it("from a contained remediation: freezes a release plan, waits for a person, then sends exactly its calls", async () => {
    const { firewall, world } = setUp();
    const job = world.seed(RESOURCE, "auto");
    expect(await world.run(job)).toBe("succeeded");
    const ruleId = firewall.entry(RESOURCE)?.ruleId;

    expect(await world.run(job, "release")).toBe("awaiting_approval");
    const r = world.store.remediations.get(job.remediationId);
    expect(r?.plan).toMatchObject({
      action: "release",
      ifDeclined: "contained",
      releaseFrom: "succeeded",
      steps: [{ name: "unblock", calls: [{ service: "firewall", operation: "Unblock", params: { resource: RESOURCE, ruleId } }] }],
    });
    expect(firewall.entry(RESOURCE)?.blocked).toBe(true);
    // A release asks before its first change, whatever the mode: nothing runs unapproved.
    expect(firewall.sent.map((c) => c.operation)).toEqual(["Block"]);

    world.store.approve(job.remediationId, "token:carol");
    expect(await world.run(job, "release")).toBe("succeeded");
    expect(firewall.entry(RESOURCE)?.blocked).toBe(false);
    const plan = world.store.remediations.get(job.remediationId)?.plan as { steps: { calls: unknown[] }[] };
    expect(firewall.sent.slice(1)).toEqual(plan.steps.flatMap((s) => s.calls));
    expect(Object.fromEntries(world.store.rowsOf(job.remediationId).map((s) => [s.name, s.status]))).toEqual({ look: "succeeded", block: "succeeded", unblock: "succeeded" });
    expect(world.notified.map((n) => [n.kind, n.detail])).toEqual([
      ["succeeded", undefined],
      ["awaiting_approval", "release"],
      ["succeeded", "release"],
    ]);
  });

  it("from a remediation that failed after containment: released from `failed`", async () => {
    const { firewall, world } = setUp();
    const job = world.seed(RESOURCE, "auto");
    await world.run(job);
    // A later step failed for good: the record says failed, and contained.
    await world.store.setStatus(job.remediationId, "failed", { error: "capture: AccessDenied" });
    expect(await world.run(job, "release")).toBe("awaiting_approval");
    expect(world.store.remediations.get(job.remediationId)?.plan).toMatchObject({ action: "release", releaseFrom: "failed" });
    world.store.approve(job.remediationId, "token:carol");
    expect(await world.run(job, "release")).toBe("succeeded");
    expect(firewall.entry(RESOURCE)?.blocked).toBe(false);
  });

  it("is refused when the remediation was never contained: nothing planned, nothing sent", async () => {
    const { firewall, world } = setUp();
    firewall.add("res-broken");
    const job = world.seed("res-broken", "auto");
    // The containment step fails for good: the firewall refuses Block.
    firewall.denied.add("Block");
    await expect(world.run(job)).rejects.toMatchObject({ name: "FailedForGood" });
    firewall.denied.clear();
    const r = world.store.remediations.get(job.remediationId);
    expect(r?.status).toBe("failed");
    expect(r?.containedAt).toBeNull();

    expect(await world.run(job, "release")).toBe("nothing_to_do");
    expect(world.store.remediations.get(job.remediationId)?.status).toBe("failed");
    expect(world.store.remediations.get(job.remediationId)?.plan).toBeNull();
    expect(firewall.sent.filter((c) => c.operation === "Unblock")).toEqual([]);
  });

  it("is not a containment: a redelivered contain job on a released remediation does nothing", async () => {
    const { firewall, world } = setUp();
    const job = world.seed(RESOURCE, "auto");
    await world.run(job);
    await world.run(job, "release");
    world.store.approve(job.remediationId, "token:carol");
    await world.run(job, "release");
    expect(await world.run(job)).toBe("nothing_to_do");
    expect(firewall.entry(RESOURCE)?.blocked).toBe(false);
  });
});
