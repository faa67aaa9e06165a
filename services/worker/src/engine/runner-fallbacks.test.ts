// Containment fallbacks (Playbook.fallbacks): a containment step that could not do its work does
// not escalate when the playbook names a destructive step that contains instead; the evidence
// steps still run, the fallback waits for a person with the reason in its plan, and once it has
// run the remediation is contained. And a playbook with no containment step (it finds and, behind
// approval, removes) may offer a destructive step at all.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { notAvailable, type Playbook, type Step } from "./step.js";
import { capture, Firewall, firewallClients, firewallPlaybook, look, wipe } from "./testing/firewall-playbook.js";
import { createEngineWorld } from "./testing/world.js";

const RESOURCE = "res-0007";

const refusedBlock: Step = {
  name: "block",
  destructive: false,
  output: z.object({ ruleId: z.null() }),
  check: () => Promise.resolve({ done: false }),
  act: () => Promise.resolve(notAvailable("the firewall refused Block: OperationNotPermitted", { ruleId: null })),
  verify: () => Promise.resolve(),
};

function setUp(playbook: (base: Playbook) => Playbook) {
  const firewall = new Firewall();
  firewall.add(RESOURCE);
  const base = firewallPlaybook(firewallClients(firewall));
  const world = createEngineWorld(playbook(base));
  return { firewall, world };
}

describe("a containment step with a fallback", () => {
  it("that could not contain: evidence runs, the fallback waits with the reason, and once approved and run the remediation is contained", async () => {
    const { firewall, world } = setUp((base) => ({ ...base, steps: [look, refusedBlock, capture, wipe], fallbacks: { block: "wipe" } }));
    const job = world.seed(RESOURCE, "auto");
    expect(await world.run(job)).toBe("awaiting_approval");
    const waiting = world.store.remediations.get(job.remediationId);
    expect(waiting?.status).toBe("awaiting_approval");
    expect(waiting?.containedAt).toBeNull();
    expect(waiting?.plan).toMatchObject({
      ifDeclined: "nothing_done",
      reason: "block could not be done: the firewall refused Block: OperationNotPermitted; wipe is the containment left",
      steps: [{ name: "wipe", destructive: true, calls: [{ operation: "Wipe", params: { resource: RESOURCE } }] }],
    });
    // Evidence ran before the person was asked; nothing destructive was sent.
    expect(world.store.rowsOf(job.remediationId).map((r) => [r.name, r.status])).toEqual([
      ["look", "succeeded"],
      ["block", "unavailable"],
      ["capture", "unavailable"],
      ["wipe", "awaiting_approval"],
    ]);
    expect(firewall.sent).toEqual([]);

    world.store.approve(job.remediationId, "token:bob");
    expect(await world.run(job, "continue")).toBe("succeeded");
    expect(firewall.entry(RESOURCE)?.wiped).toBe(true);
    // Contained by its fallback: releasable and counted as contained from then on.
    expect(world.store.remediations.get(job.remediationId)?.containedAt).toBeInstanceOf(Date);
  });

  it("that contained: the fallback is an ordinary destructive step after containment", async () => {
    const { firewall, world } = setUp((base) => ({ ...base, steps: [...base.steps, wipe], fallbacks: { block: "wipe" } }));
    const job = world.seed(RESOURCE, "auto");
    expect(await world.run(job)).toBe("handed_over");
    const handed = world.handedOver[0];
    if (!handed) throw new Error("nothing handed over");
    expect(await world.run(handed.job)).toBe("awaiting_approval");
    const plan = world.store.remediations.get(job.remediationId)?.plan as { reason?: string; ifDeclined: string } | null;
    expect(plan?.ifDeclined).toBe("contained");
    expect(plan?.reason).toBeUndefined();
    expect(firewall.sent.map((c) => c.operation)).toEqual(["Block"]);
  });

  it("without a fallback still escalates (the default)", async () => {
    const { world } = setUp((base) => ({ ...base, steps: [look, refusedBlock, wipe] }));
    const job = world.seed(RESOURCE, "auto");
    expect(await world.run(job)).toBe("escalated");
  });
});

describe("a playbook without containment steps", () => {
  it("offers its destructive step to a person instead of refusing it as out of order", async () => {
    const { firewall, world } = setUp((base) => ({ ...base, steps: [look, wipe], containment: [], isolates: false }));
    const job = world.seed(RESOURCE, "auto");
    expect(await world.run(job)).toBe("awaiting_approval");
    expect(world.store.remediations.get(job.remediationId)?.plan).toMatchObject({ ifDeclined: "nothing_done", steps: [{ name: "wipe" }] });
    expect(firewall.sent).toEqual([]);
    world.store.approve(job.remediationId, "token:bob");
    expect(await world.run(job, "continue")).toBe("succeeded");
    expect(firewall.entry(RESOURCE)?.wiped).toBe(true);
    expect(world.store.remediations.get(job.remediationId)?.containedAt).toBeNull();
  });
});

describe("a destructive step with nothing to do", () => {
  it("is recorded with its check's outcome instead of asking a person to approve no calls", async () => {
    const firewall = new Firewall();
    firewall.add(RESOURCE, { wiped: true });
    const base = firewallPlaybook(firewallClients(firewall));
    const world = createEngineWorld({ ...base, steps: [...base.steps, wipe] });
    const job = world.seed(RESOURCE, "auto");
    expect(await world.run(job)).toBe("handed_over");
    const handed = world.handedOver[0];
    if (!handed) throw new Error("nothing handed over");
    expect(await world.run(handed.job)).toBe("succeeded");
    expect(world.store.remediations.get(job.remediationId)?.plan).toBeNull();
    expect(world.store.rowsOf(job.remediationId).map((r) => [r.name, r.status])).toEqual([
      ["look", "succeeded"],
      ["block", "succeeded"],
      ["wipe", "skipped"],
    ]);
    expect(firewall.sent.map((c) => c.operation)).toEqual(["Block"]);
  });
});

