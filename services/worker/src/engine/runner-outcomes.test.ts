// Honest step outcomes without AWS: a step that could not do its work is `unavailable`, a final
// check that passed is `verified`, both count as done when a job resumes; an output of the wrong
// shape fails the step for good; a step that finds what it must not act on escalates.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { EscalateRemediation, notAvailable, type Step } from "./step.js";
import { capture, confirm, Firewall, firewallClients, firewallPlaybook, miscount } from "./testing/firewall-playbook.js";
import { createEngineWorld } from "./testing/world.js";

const RESOURCE = "res-0003";

function setUp(after: readonly Step[] = [], before: readonly Step[] = []) {
  const firewall = new Firewall();
  firewall.add(RESOURCE);
  const world = createEngineWorld(firewallPlaybook(firewallClients(firewall), after, before));
  return { firewall, world };
}

describe("unavailable and verified", () => {
  it("are recorded as they are, with the reason, and a resumed job does not run them again", async () => {
    const { world } = setUp([capture, confirm]);
    const job = world.seed(RESOURCE, "auto");
    await world.run(job);
    const evidence = world.handedOver[0]?.job;
    if (!evidence) throw new Error("nothing handed over");
    expect(await world.run(evidence)).toBe("succeeded");
    const rows = new Map(world.store.rowsOf(job.remediationId).map((r) => [r.name, r]));
    expect(rows.get("capture")).toMatchObject({ status: "unavailable", output: { capture: null }, attempts: 1 });
    expect(rows.get("confirm")).toMatchObject({ status: "verified", output: { blocked: true }, attempts: 1 });
    expect(world.store.auditEvents.filter((a) => a.action === "step.unavailable").map((a) => a.detail)).toEqual([{ step: "capture", note: "Capture is not available for this firewall" }]);
    expect(world.store.auditEvents.filter((a) => a.action === "step.verified").map((a) => a.detail)).toEqual([{ step: "confirm", note: "verified" }]);

    // The job comes back (a redelivery while the remediation was still running): nothing runs again.
    await world.store.setStatus(job.remediationId, "running");
    expect(await world.run(evidence)).toBe("succeeded");
    expect([...world.store.rowsOf(job.remediationId)].map((r) => [r.name, r.attempts])).toEqual([
      ["look", 1],
      ["block", 1],
      ["capture", 1],
      ["confirm", 1],
    ]);
    const durations = await world.metrics.getSingleMetric("gdr_worker_step_duration_seconds")?.get();
    const outcomes = durations?.values.filter((v) => (v as { metricName?: string }).metricName === "gdr_worker_step_duration_seconds_count").map((v) => `${String(v.labels["step"])}:${String(v.labels["outcome"])}`);
    expect(outcomes?.sort()).toEqual(["block:succeeded", "capture:unavailable", "confirm:verified", "look:succeeded"]);
  });

  it("an unavailable containment step does not contain: the remediation is escalated with the reason, no contained_at, no release", async () => {
    const unavailableBlock: Step = {
      name: "block",
      destructive: false,
      output: z.object({ ruleId: z.null() }),
      check: () => Promise.resolve({ done: false }),
      act: () => Promise.resolve(notAvailable("Block is not available for this firewall", { ruleId: null })),
      verify: () => Promise.resolve(),
    };
    const firewall = new Firewall();
    firewall.add(RESOURCE);
    const playbook = firewallPlaybook(firewallClients(firewall));
    const world = createEngineWorld({ ...playbook, steps: [playbook.steps[0] as Step, unavailableBlock] });
    const job = world.seed(RESOURCE, "auto");
    // Never "succeeded" while the resource is still exposed: a person is asked, with the reason.
    expect(await world.run(job)).toBe("escalated");
    const remediation = world.store.remediations.get(job.remediationId);
    expect(remediation?.status).toBe("escalated");
    expect(remediation?.error).toContain("Block is not available for this firewall");
    expect(remediation?.containedAt).toBeNull();
    expect(world.store.auditEvents.filter((a) => a.action === "remediation.escalated").map((a) => a.detail)).toEqual([
      { step: "block", reason: "containment could not be done: Block is not available for this firewall", status: "escalated" },
    ]);
    expect(world.store.rowsOf(job.remediationId).map((r) => [r.name, r.status])).toEqual([
      ["look", "succeeded"],
      ["block", "unavailable"],
    ]);
    // Failed later, it is not releasable: nothing was contained.
    await world.store.setStatus(job.remediationId, "failed");
    expect(await world.run(job, "release")).toBe("nothing_to_do");
  });
});

describe("an output of the wrong shape", () => {
  it("fails the step for good, with no retry", async () => {
    const { firewall, world } = setUp([], [miscount]);
    const job = world.seed(RESOURCE, "auto");
    await expect(world.run(job)).rejects.toMatchObject({ name: "FailedForGood" });
    const row = world.store.rowsOf(job.remediationId).find((r) => r.name === "miscount");
    expect(row).toMatchObject({ status: "failed", errorClass: "fatal", errorCode: "OutputShapeError", output: null });
    expect(row?.errorMessage).toMatch(/count: /);
    const r = world.store.remediations.get(job.remediationId);
    expect(r?.status).toBe("failed");
    expect(r?.error).toMatch(/^miscount: OutputShapeError/);
    expect(firewall.sent).toEqual([]);
    expect(world.notified.map((n) => n.kind)).toEqual(["failed"]);
  });
});

describe("escalation", () => {
  it("by a step before containment: the step records what it found, the remediation ends escalated, people are told, nothing is sent", async () => {
    const { firewall, world } = setUp();
    firewall.add("res-root", { owner: "root" });
    const job = world.seed("res-root", "auto");
    expect(await world.run(job)).toBe("escalated");
    const r = world.store.remediations.get(job.remediationId);
    expect(r?.status).toBe("escalated");
    expect(r?.error).toBe("escalated: look: res-root belongs to root, which this playbook does not act on");
    expect(world.store.rowsOf(job.remediationId).map((s) => [s.name, s.status, s.output])).toEqual([["look", "skipped", { escalated: "res-root belongs to root, which this playbook does not act on" }]]);
    expect(world.store.auditEvents.filter((a) => a.action === "remediation.escalated").map((a) => a.detail)).toEqual([
      { step: "look", reason: "res-root belongs to root, which this playbook does not act on", status: "escalated" },
    ]);
    expect(world.notified.map((n) => [n.kind, n.detail])).toEqual([["escalated", r?.error]]);
    expect(firewall.sent).toEqual([]);
    expect(world.limits.isolations).toBe(0);
  });

  it("a retry after a person resolved it runs the escalated step again instead of resuming past it", async () => {
    const { firewall, world } = setUp();
    firewall.add("res-root", { owner: "root" });
    const job = world.seed("res-root", "auto");
    await world.run(job);
    // Ownership corrected; a person retries (the API puts it back to queued).
    const entry = firewall.entry("res-root");
    if (entry) entry.owner = "app";
    await world.store.setStatus(job.remediationId, "queued", { error: null });
    expect(await world.run(job)).toBe("succeeded");
    expect(world.store.rowsOf(job.remediationId).map((s) => [s.name, s.status, s.attempts])).toEqual([
      ["look", "succeeded", 2],
      ["block", "succeeded", 1],
    ]);
    expect(firewall.entry("res-root")?.blocked).toBe(true);
  });

  it("after containment ends failed, which leaves the contained resource releasable", async () => {
    const suspicious: Step = {
      name: "inspect",
      destructive: false,
      output: z.null(),
      check: () => Promise.resolve({ done: false }),
      act: () => Promise.reject(new EscalateRemediation("a second principal uses the resource", "escalate")),
      verify: () => Promise.resolve(),
    };
    const { firewall, world } = setUp([suspicious]);
    const job = world.seed(RESOURCE, "auto");
    expect(await world.run(job)).toBe("handed_over");
    const evidence = world.handedOver[0]?.job;
    if (!evidence) throw new Error("nothing handed over");
    await expect(world.run(evidence)).rejects.toMatchObject({ name: "FailedForGood" });
    const r = world.store.remediations.get(job.remediationId);
    expect(r?.status).toBe("failed");
    expect(r?.error).toBe("escalated: inspect: a second principal uses the resource");
    expect(world.store.auditEvents.filter((a) => a.action === "remediation.escalated").map((a) => a.detail)).toEqual([
      { step: "inspect", reason: "a second principal uses the resource", status: "failed" },
    ]);
    expect(await world.run(job, "release")).toBe("awaiting_approval");
    expect(firewall.entry(RESOURCE)?.blocked).toBe(true);
  });

  it("while a plan is derived (act in plan mode) ends the remediation escalated, with no plan frozen", async () => {
    const planEscalates: Step = {
      name: "block",
      destructive: false,
      output: z.null(),
      check: () => Promise.resolve({ done: false }),
      act: () => Promise.reject(new EscalateRemediation("the firewall is shared with production", "escalate")),
      verify: () => Promise.resolve(),
    };
    const firewall = new Firewall();
    firewall.add(RESOURCE);
    const playbook = firewallPlaybook(firewallClients(firewall));
    const world = createEngineWorld({ ...playbook, steps: [playbook.steps[0] as Step, planEscalates] });
    const job = world.seed(RESOURCE, "approval");
    expect(await world.run(job)).toBe("escalated");
    const r = world.store.remediations.get(job.remediationId);
    expect(r?.status).toBe("escalated");
    expect(r?.plan).toBeNull();
    expect(r?.error).toBe("escalated: block: the firewall is shared with production");
    expect(firewall.sent).toEqual([]);
  });

  it("while a plan over several steps is derived names the step that escalated, not the one that waits", async () => {
    const laterEscalates: Step = {
      name: "inspect",
      destructive: false,
      output: z.null(),
      check: () => Promise.reject(new EscalateRemediation("the firewall is shared with production", "escalate")),
      act: () => Promise.resolve(null),
      verify: () => Promise.resolve(),
    };
    const firewall = new Firewall();
    firewall.add(RESOURCE);
    const playbook = firewallPlaybook(firewallClients(firewall));
    // look (read-only) runs, block waits for the approval, and inspect escalates while block's plan is derived.
    const world = createEngineWorld({ ...playbook, steps: [...playbook.steps, laterEscalates] });
    const job = world.seed(RESOURCE, "approval");
    expect(await world.run(job)).toBe("escalated");
    expect(world.store.remediations.get(job.remediationId)?.error).toBe("escalated: inspect: the firewall is shared with production");
    expect(world.store.auditEvents.filter((a) => a.action === "remediation.escalated").map((a) => (a.detail as { step: string }).step)).toEqual(["inspect"]);
    expect(firewall.sent).toEqual([]);
  });
});
