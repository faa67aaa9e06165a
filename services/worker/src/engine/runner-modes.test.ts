// The engine without AWS: an in-memory playbook (look, then block through an outside client) run
// by the real runner over in-memory fakes of the store, the limits and the queue. Each mode ends
// in the state a person would find: rows, plan, what reached the firewall, who was told.
import { describe, expect, it } from "vitest";
import { planHash } from "./plan.js";
import { block, capture, confirm, Firewall, firewallClients, firewallPlaybook, wipe } from "./testing/firewall-playbook.js";
import { createEngineWorld } from "./testing/world.js";

const RESOURCE = "res-0001";

function setUp(after: Parameters<typeof firewallPlaybook>[1] = []) {
  const firewall = new Firewall();
  firewall.add(RESOURCE);
  const factory = firewallClients(firewall);
  const world = createEngineWorld(firewallPlaybook(factory, after));
  return { firewall, factory, world };
}

const statusesOf = (world: ReturnType<typeof setUp>["world"], id: string) => world.store.rowsOf(id).map((r) => [r.name, r.status]);

describe("auto mode", () => {
  it("runs both steps, records the remediation contained with the block, and succeeds", async () => {
    const { firewall, world } = setUp();
    const job = world.seed(RESOURCE, "auto");
    expect(await world.run(job)).toBe("succeeded");
    const r = world.store.remediations.get(job.remediationId);
    expect(r?.status).toBe("succeeded");
    expect(r?.containedAt).toBeInstanceOf(Date);
    expect(statusesOf(world, job.remediationId)).toEqual([
      ["look", "succeeded"],
      ["block", "succeeded"],
    ]);
    expect(firewall.entry(RESOURCE)?.blocked).toBe(true);
    expect(firewall.sent.map((c) => c.operation)).toEqual(["Block"]);
    // Tokens were taken from the playbook's own families, and the isolating playbook took the cap.
    expect(world.limits.taken).toEqual(["123456789012/firewall-read", "123456789012/firewall-read", "123456789012/firewall-write", "123456789012/firewall-read"]);
    expect(world.limits.isolations).toBe(1);
    expect(world.handedOver).toEqual([]);
    expect(world.notified.map((n) => n.kind)).toEqual(["succeeded"]);
    expect(world.limits.held.size).toBe(0);
  });

  it("hands the steps after containment to an evidence job, which finishes them", async () => {
    const { world } = setUp([capture, confirm]);
    const job = world.seed(RESOURCE, "auto");
    expect(await world.run(job)).toBe("handed_over");
    expect(world.store.remediations.get(job.remediationId)?.status).toBe("running");
    expect(world.store.remediations.get(job.remediationId)?.containedAt).toBeInstanceOf(Date);
    expect(world.handedOver).toEqual([{ job: { ...job, action: "evidence" }, jobId: "job-1-evidence" }]);
    expect(world.store.auditEvents.filter((a) => a.action === "remediation.handed_over").map((a) => a.detail)).toEqual([{ from: "contain", next: "capture" }]);
    const handed = world.handedOver[0];
    if (!handed) throw new Error("nothing handed over");
    expect(await world.run(handed.job)).toBe("succeeded");
    expect(statusesOf(world, job.remediationId)).toEqual([
      ["look", "succeeded"],
      ["block", "succeeded"],
      ["capture", "unavailable"],
      ["confirm", "verified"],
    ]);
    // The evidence job contains nothing: the one reservation is the containment's.
    expect(world.limits.isolations).toBe(1);
    // Redelivered, the evidence job finds nothing left.
    expect(await world.run(handed.job)).toBe("nothing_to_do");
  });

  it("observes time-to-contain once, when the last containment step is done", async () => {
    const { world } = setUp([capture]);
    const job = world.seed(RESOURCE, "auto");
    await world.run(job);
    const handed = world.handedOver[0];
    if (!handed) throw new Error("nothing handed over");
    await world.run(handed.job);
    const metric = await world.metrics.getSingleMetric("gdr_worker_time_to_contained_seconds")?.get();
    const counts = metric?.values.filter((v) => (v as { metricName?: string }).metricName === "gdr_worker_time_to_contained_seconds_count").map((v) => [v.labels["since"], v.value]);
    expect(counts).toEqual([
      ["finding_created", 1],
      ["ingested", 1],
    ]);
  });
});

describe("approval mode", () => {
  it("freezes a plan whose calls come from block's act in plan mode, and sends nothing", async () => {
    const { firewall, world } = setUp();
    const job = world.seed(RESOURCE, "approval");
    expect(await world.run(job)).toBe("awaiting_approval");
    const r = world.store.remediations.get(job.remediationId);
    expect(r?.status).toBe("awaiting_approval");
    expect(r?.containedAt).toBeNull();
    expect(r?.plan).toMatchObject({
      action: "continue",
      ifDeclined: "nothing_done",
      steps: [{ name: "block", destructive: false, calls: [{ service: "firewall", operation: "Block", params: { resource: RESOURCE, reason: `finding ${job.findingId}` } }] }],
    });
    expect(r?.planHash).toBe(planHash(r?.plan ?? null));
    expect(statusesOf(world, job.remediationId)).toEqual([
      ["look", "succeeded"],
      ["block", "awaiting_approval"],
    ]);
    expect(firewall.sent).toEqual([]);
    expect(world.limits.isolations).toBe(0);
    expect(world.notified.map((n) => n.kind)).toEqual(["awaiting_approval"]);
  });

  it("after approval, the continuation sends exactly the calls of the approved plan", async () => {
    const { firewall, world } = setUp();
    const job = world.seed(RESOURCE, "approval");
    await world.run(job);
    // Without an approval a continuation does nothing.
    expect(await world.run(job, "continue")).toBe("nothing_to_do");
    expect(firewall.sent).toEqual([]);

    world.store.approve(job.remediationId, "token:alice");
    expect(await world.run(job, "continue")).toBe("succeeded");
    const plan = world.store.remediations.get(job.remediationId)?.plan as { steps: { calls: unknown[] }[] };
    expect(firewall.sent).toEqual(plan.steps.flatMap((s) => s.calls));
    expect(world.store.remediations.get(job.remediationId)?.containedAt).toBeInstanceOf(Date);
  });

  it("holds auto mode for a person when the read-only step finds a reason", async () => {
    const { firewall, world } = setUp();
    firewall.add("res-exempt", { exempt: true });
    const job = world.seed("res-exempt", "auto");
    expect(await world.run(job)).toBe("awaiting_approval");
    expect(world.store.remediations.get(job.remediationId)?.plan).toMatchObject({ reason: "the resource is marked exempt" });
    expect(world.store.auditEvents.filter((a) => a.action === "remediation.held")).toHaveLength(1);
    expect(firewall.sent).toEqual([]);
  });
});

describe("dry-run mode", () => {
  it("records each step's calls and sends nothing", async () => {
    const { firewall, world } = setUp();
    const job = world.seed(RESOURCE, "dry_run");
    expect(await world.run(job)).toBe("dry_run");
    const r = world.store.remediations.get(job.remediationId);
    expect(r?.status).toBe("dry_run");
    expect(r?.containedAt).toBeNull();
    expect(world.store.rowsOf(job.remediationId).map((s) => [s.name, s.status, s.output])).toEqual([
      ["look", "succeeded", { resource: RESOURCE, owner: "app", exempt: false }],
      [
        "block",
        "skipped",
        {
          dryRun: true,
          calls: [{ service: "firewall", operation: "Block", params: { resource: RESOURCE, reason: `finding ${job.findingId}` } }],
          permissions: [{ permitted: true, detail: "Block: no dry-run for firewall; not checked" }],
        },
      ],
    ]);
    expect(r?.plan).toMatchObject({ steps: [{ name: "block", calls: [{ operation: "Block" }] }] });
    expect(firewall.sent).toEqual([]);
    expect(firewall.entry(RESOURCE)?.blocked).toBe(false);
    expect(world.notified).toEqual([]);
  });
});

describe("notify mode", () => {
  it("records and tells people, runs no step and sends nothing", async () => {
    const { firewall, factory, world } = setUp();
    const job = world.seed(RESOURCE, "notify");
    expect(await world.run(job)).toBe("notified");
    expect(world.store.remediations.get(job.remediationId)?.status).toBe("notified");
    expect(world.store.rowsOf(job.remediationId)).toEqual([]);
    expect(world.store.auditEvents.map((a) => a.action)).toEqual(["remediation.notified"]);
    expect(world.notified.map((n) => [n.kind, n.resourceKey])).toEqual([["notified", RESOURCE]]);
    expect(firewall.sent).toEqual([]);
    expect(factory.created).toEqual([]);
  });
});

describe("a destructive step", () => {
  it("waits for a person after containment, in auto mode too, and a decline would leave the resource contained", async () => {
    const { firewall, world } = setUp([wipe]);
    const job = world.seed(RESOURCE, "auto");
    expect(await world.run(job)).toBe("handed_over");
    const handed = world.handedOver[0];
    if (!handed) throw new Error("nothing handed over");
    expect(await world.run(handed.job)).toBe("awaiting_approval");
    const r = world.store.remediations.get(job.remediationId);
    expect(r?.plan).toMatchObject({ action: "continue", ifDeclined: "contained", steps: [{ name: "wipe", destructive: true, calls: [{ operation: "Wipe", params: { resource: RESOURCE } }] }] });
    expect(firewall.entry(RESOURCE)?.wiped).toBe(false);

    world.store.approve(job.remediationId, "token:bob");
    expect(await world.run(job, "continue")).toBe("succeeded");
    expect(firewall.entry(RESOURCE)?.wiped).toBe(true);
    expect(firewall.sent.map((c) => c.operation)).toEqual(["Block", "Wipe"]);
  });

  it("placed before containment, fails the remediation instead of being offered to an approver", async () => {
    const firewall = new Firewall();
    firewall.add(RESOURCE);
    const world = createEngineWorld(firewallPlaybook(firewallClients(firewall), [], [wipe]));
    const job = world.seed(RESOURCE, "auto");
    await expect(world.run(job)).rejects.toThrow(/puts destructive step wipe before its containment \(block\)/);
    expect(world.store.remediations.get(job.remediationId)?.status).toBe("failed");
    expect(firewall.sent).toEqual([]);
  });
});

describe("the isolation cap", () => {
  it("postpones an isolating playbook's containment past the cap, before anything changes", async () => {
    const firewall = new Firewall();
    firewall.add("res-a");
    firewall.add("res-b");
    const world = createEngineWorld(firewallPlaybook(firewallClients(firewall)), { isolationsPerMinute: 1 });
    expect(await world.run(world.seed("res-a", "auto"))).toBe("succeeded");
    const second = world.seed("res-b", "auto");
    await expect(world.run(second)).rejects.toMatchObject({ name: "Postpone", why: "isolation_cap", playbook: "container" });
    expect(firewall.entry("res-b")?.blocked).toBe(false);
    expect(world.store.remediations.get(second.remediationId)?.status).toBe("running");
    const waits = await world.metrics.getSingleMetric("gdr_worker_isolation_cap_waits_total")?.get();
    expect(waits?.values.map((v) => [v.labels["playbook"], v.value])).toEqual([["container", 1]]);
  });

  it("is not taken by a playbook that does not isolate", async () => {
    const firewall = new Firewall();
    firewall.add(RESOURCE);
    const world = createEngineWorld({ ...firewallPlaybook(firewallClients(firewall)), isolates: false }, { isolationsPerMinute: 1 });
    world.limits.isolations = 1;
    expect(await world.run(world.seed(RESOURCE, "auto"))).toBe("succeeded");
    expect(firewall.entry(RESOURCE)?.blocked).toBe(true);
  });
});

describe("a throttle on a family nobody declared", () => {
  it("fails the step for good: a bug, not something to retry", async () => {
    const firewall = new Firewall();
    firewall.add(RESOURCE);
    const playbook = firewallPlaybook(firewallClients(firewall));
    const world = createEngineWorld({ ...playbook, families: { "firewall-read": { capacity: 1, refillPerSecond: 1 } } });
    const job = world.seed(RESOURCE, "auto");
    await expect(world.run(job)).rejects.toMatchObject({ name: "FailedForGood" });
    expect(world.store.rowsOf(job.remediationId).find((s) => s.name === block.name)).toMatchObject({ status: "failed", errorCode: "UnknownFamilyError" });
    expect(firewall.sent).toEqual([]);
  });
});
