// The modes and the approval gate through the real worker: dry-run plans and changes nothing,
// approval mode freezes a plan and changes nothing until a person approves it (with the hash
// they saw), rejection ends it, terminate waits for its own approval in auto mode (declined, the
// instance stays contained), and release puts back what identify recorded, also after a first
// release request was rejected. Decisions go through core's approveRemediation /
// rejectRemediation / requestRelease, as the API will call them.
import { approveRemediation, rejectRemediation, requestRelease, type Decision } from "@gdr/core/approvals/decide";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  waitUntil,
  RESPONDER_TAG,
  containmentProblems,
  seededEnis,
  viewInstance,
} from "../support/index.js";
import {
  CONTAINMENT_STEPS,
  approvalsOf,
  auditOf,
  createEngineWorld,
  createGate,
  findingFor,
  findingIdOf,
  metricValue,
  outboxOf,
  remediation,
  remediationForFinding,
  seed,
  startLane,
  stepMap,
  stepsOf,
  waitForStatus,
  type EngineWorld,
  type Lane,
  type RemediationRow,
} from "./engine-harness.js";

/** low → dry-run, medium → approval, high and critical → auto. */
const POLICY = [
  "version: 1",
  'accounts: { allow: ["*"] }',
  "rules:",
  "  - { name: low-dry-run, match: { severity: low }, mode: dry-run }",
  "  - { name: medium-approval, match: { severity: medium }, mode: approval }",
  "  - { name: high-auto, match: { severity: [high, critical] }, mode: auto }",
  "",
].join("\n");
const SETTLED = ["succeeded", "failed", "skipped", "dry_run", "awaiting_approval", "rejected"];

interface PlanStep {
  name: string;
  destructive: boolean;
  calls: { service: string; operation: string; params: Record<string, unknown> }[];
}

let world: EngineWorld;
let lane: Lane;

beforeAll(async () => {
  world = await createEngineWorld();
  lane = await startLane(world, { policy: POLICY });
});

afterAll(async () => {
  await world.close();
});

function planSteps(row: RemediationRow): PlanStep[] {
  return (row.plan as { steps: PlanStep[] }).steps;
}

function operations(step: PlanStep | undefined): string[] {
  return (step?.calls ?? []).map((c) => c.operation);
}

async function jobsOf(remediationId: string): Promise<{ id: string | undefined; action: string; state: string }[]> {
  const jobs = (await lane.jobs()).filter((j) => j.data.remediationId === remediationId);
  return Promise.all(jobs.map(async (j) => ({ id: j.id, action: j.data.action, state: await j.getState() })));
}

function approve(r: RemediationRow, planHash: string, actor = "alice"): Promise<Decision> {
  return approveRemediation(world.db.prisma, lane.queues, { remediationId: r.id, actor, reason: "looked at the plan", planHash });
}

describe("dry-run mode", () => {
  it("records a plan with the exact calls and changes nothing in AWS", async () => {
    const seeded = await seed(world);
    const before = await viewInstance(world.aws, seeded);
    const detail = findingFor(seeded, { severity: 2 });
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));
    expect(queued.mode).toBe("dry_run");
    const done = await waitForStatus(world.db, queued.id, SETTLED);
    expect(done.status).toBe("dry_run");
    expect(done.plan_hash).toMatch(/^[0-9a-f]{64}$/);

    const plan = new Map(planSteps(done).map((s) => [s.name, s]));
    expect([...plan.keys()]).toEqual(CONTAINMENT_STEPS.filter((s) => s !== "identify"));
    expect(operations(plan.get("leave-auto-scaling"))).toEqual(["EnterStandby"]);
    expect(operations(plan.get("isolate"))).toEqual([
      "CreateSecurityGroup", // containment
      "RevokeSecurityGroupEgress", // its IPv4 default, before anything moves in
      "RevokeSecurityGroupEgress", // its ::/0 default, if the VPC has IPv6
      "CreateSecurityGroup", // transit, born with the all-traffic egress rule it keeps
      "ModifyNetworkInterfaceAttribute", // each interface: to transit, then to containment
      "ModifyNetworkInterfaceAttribute",
      "ModifyNetworkInterfaceAttribute",
      "ModifyNetworkInterfaceAttribute",
    ]);
    expect(plan.get("isolate")?.calls.filter((c) => c.operation === "ModifyNetworkInterfaceAttribute").map((c) => c.params["NetworkInterfaceId"]).sort())
      .toEqual(seededEnis(seeded).flatMap((e) => [e.id, e.id]));
    expect(operations(plan.get("protect-evidence"))).toEqual(["ModifyInstanceAttribute", "ModifyInstanceAttribute", "ModifyInstanceAttribute"]);
    expect(operations(plan.get("leave-target-groups"))).toEqual(["DeregisterTargets"]);
    expect(operations(plan.get("tag"))).toEqual(["CreateTags"]);
    expect(operations(plan.get("snapshot-volumes"))).toEqual(["CreateSnapshot", "CreateSnapshot"]);
    expect(operations(plan.get("malware-scan"))).toEqual(["StartMalwareScan"]);

    const steps = await stepsOf(world.db, queued.id);
    expect(steps.map((s) => [s.name, s.status])).toEqual(CONTAINMENT_STEPS.map((n) => [n, n === "identify" ? "succeeded" : "skipped"]));
    for (const s of steps.slice(1)) expect(s.output, s.name).toMatchObject({ dryRun: true });

    // Nothing changed: the instance, its interfaces, every group of the VPC (no isolation group),
    // snapshots, tags, Auto Scaling and target group state are exactly as before.
    expect(await viewInstance(world.aws, seeded)).toEqual(before);
    expect(await jobsOf(queued.id)).toEqual([{ id: queued.job_id, action: "contain", state: "completed" }]);
    expect(metricValue(await lane.worker?.metrics() ?? "", "gdr_worker_jobs_total", { outcome: "dry_run" })).toBe(1);
  });
});

describe("approval mode", () => {
  it("plans after identify, refuses a stale hash, and runs once for two concurrent approvals", async () => {
    const seeded = await seed(world);
    const before = await viewInstance(world.aws, seeded);
    const detail = findingFor(seeded, { severity: 5 });
    const findingId = findingIdOf(detail);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingId);
    expect(queued.mode).toBe("approval");
    const waiting = await waitForStatus(world.db, queued.id, SETTLED);
    expect(waiting.status).toBe("awaiting_approval");
    const planHash = waiting.plan_hash ?? "";
    expect(planHash).toMatch(/^[0-9a-f]{64}$/);
    expect((waiting.plan as { action: string }).action).toBe("continue");
    expect(planSteps(waiting).map((s) => s.name)).toEqual(CONTAINMENT_STEPS.slice(1));
    expect(operations(planSteps(waiting)[0])).toEqual(["EnterStandby"]);
    expect((await stepsOf(world.db, queued.id)).map((s) => [s.name, s.status])).toEqual([
      ["identify", "succeeded"],
      ["leave-auto-scaling", "awaiting_approval"],
    ]);
    expect((await auditOf(world.db, queued.id)).filter((a) => a.action === "remediation.awaiting_approval")).toHaveLength(1);
    expect(await viewInstance(world.aws, seeded)).toEqual(before);

    // A hash from another plan: refused, nothing recorded, nothing enqueued.
    const stale = await approve(waiting, "0".repeat(64));
    expect(stale).toMatchObject({ ok: false, error: "plan_changed" });
    expect(await approvalsOf(world.db, queued.id)).toEqual([]);
    expect(await outboxOf(world.db, queued.id)).toHaveLength(1);
    expect((await remediation(world.db, queued.id)).status).toBe("awaiting_approval");

    // Two approvers at once: one decision, one continuation job.
    const decisions = await Promise.all([approve(waiting, planHash, "alice"), approve(waiting, planHash, "bob")]);
    const ok = decisions.filter((d) => d.ok);
    expect(ok).toHaveLength(1);
    expect(decisions.filter((d) => !d.ok)).toEqual([expect.objectContaining({ ok: false, error: "already_decided" })]);
    expect(await approvalsOf(world.db, queued.id)).toEqual([
      expect.objectContaining({ step: "leave-auto-scaling", decision: "approved", plan_hash: planHash }),
    ]);

    const done = await waitForStatus(world.db, queued.id, ["succeeded", "failed"]);
    expect(done.status).toBe("succeeded");
    expect(await outboxOf(world.db, queued.id)).toEqual([
      expect.objectContaining({ action: "contain", dispatched: true }),
      expect.objectContaining({ action: "continue", dispatched: true }),
    ]);
    const jobs = await jobsOf(queued.id);
    // The continuation contained the instance and handed the rest to one evidence job.
    expect(jobs.map((j) => j.action).sort()).toEqual(["contain", "continue", "evidence"]);
    expect(jobs.find((j) => j.action === "continue")?.id).toBe(ok[0]?.ok === true ? ok[0].jobId : "?");
    expect(containmentProblems(await viewInstance(world.aws, seeded), seeded, { findingId, remediationId: queued.id })).toEqual([]);
    const steps = await stepsOf(world.db, queued.id);
    expect(steps.map((s) => s.name)).toEqual([...CONTAINMENT_STEPS]);
    for (const s of steps) expect(s.attempts, s.name).toBe(1);
  });

  it("rejection ends the remediation and changes nothing", async () => {
    const seeded = await seed(world);
    const before = await viewInstance(world.aws, seeded);
    const detail = findingFor(seeded, { severity: 5 });
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingIdOf(detail));
    const waiting = await waitForStatus(world.db, queued.id, SETTLED);
    expect(waiting.status).toBe("awaiting_approval");

    const decision = await rejectRemediation(world.db.prisma, {
      remediationId: queued.id,
      actor: "carol",
      reason: "false positive",
      planHash: waiting.plan_hash ?? "",
    });
    expect(decision).toMatchObject({ ok: true, step: "leave-auto-scaling" });
    const rejected = await remediation(world.db, queued.id);
    expect(rejected.status).toBe("rejected");
    expect(rejected.error).toMatch(/rejected by carol: false positive/);
    expect(await approvalsOf(world.db, queued.id)).toEqual([expect.objectContaining({ decision: "rejected", actor: "carol" })]);
    expect(await outboxOf(world.db, queued.id)).toHaveLength(1);
    expect((await jobsOf(queued.id)).map((j) => j.action)).toEqual(["contain"]);
    // A late approval finds nothing to approve.
    expect(await approve(waiting, waiting.plan_hash ?? "")).toMatchObject({ ok: false, error: "not_awaiting_approval" });
    expect(await viewInstance(world.aws, seeded)).toEqual(before);
  });
});

describe("an approved continuation", () => {
  // Regression: a remediation whose approved plan is being carried out once still read
  // `awaiting_approval`, telling people "waiting for you" while AWS was being changed.
  it("reads running while it carries the plan out", async () => {
    const all = ["version: 1", 'accounts: { allow: ["*"] }', "rules:", "  - { name: all, match: { severity: { min: 0 } }, mode: approval }", ""].join("\n");
    const gate = createGate("EnterStandby");
    const gated = await startLane(world, { policy: all, awsMiddleware: (clients) => { gate.install(clients.autoscaling); } });
    try {
      const seeded = await seed(world, { targetGroup: false });
      const detail = findingFor(seeded);
      await gated.send(detail);
      const queued = await remediationForFinding(world.db, findingIdOf(detail));
      const waiting = await waitForStatus(world.db, queued.id, SETTLED);
      expect(waiting.status).toBe("awaiting_approval");
      const decision = await approveRemediation(world.db.prisma, gated.queues, {
        remediationId: queued.id,
        actor: "alice",
        reason: "go",
        planHash: waiting.plan_hash ?? "",
      });
      expect(decision.ok).toBe(true);
      await gate.arrived; // the continuation is acting on AWS
      expect((await remediation(world.db, queued.id)).status).toBe("running");
    } finally {
      gate.release();
      await gated.stop();
    }
  });
});

describe("terminate", () => {
  it("waits for its own approval in auto mode after containment, then terminates", async () => {
    const terminating = await startLane(world, { policy: POLICY, worker: { WORKER_INSTANCE_TERMINATE: "true" } });
    try {
      const seeded = await seed(world, { targetGroup: false });
      const detail = findingFor(seeded, { severity: 8 });
      const findingId = findingIdOf(detail);
      await terminating.send(detail);
      const queued = await remediationForFinding(world.db, findingId);
      expect(queued.mode).toBe("auto");
      const waiting = await waitForStatus(world.db, queued.id, SETTLED);
      expect(waiting.status).toBe("awaiting_approval");
      expect(planSteps(waiting)).toEqual([
        {
          name: "terminate",
          destructive: true,
          calls: [
            { service: "ec2", operation: "ModifyInstanceAttribute", params: { InstanceId: seeded.instanceId, DisableApiTermination: { Value: false } } },
            { service: "ec2", operation: "TerminateInstances", params: { InstanceIds: [seeded.instanceId] } },
          ],
        },
      ]);
      // Contained, still running, protected.
      const contained = await viewInstance(world.aws, seeded);
      expect(containmentProblems(contained, seeded, { findingId, remediationId: queued.id })).toEqual([]);
      const steps = stepMap(await stepsOf(world.db, queued.id));
      expect(steps.get("terminate")?.status).toBe("awaiting_approval");
      expect(steps.get("verify")?.status).toBe("verified");

      expect((waiting.plan as { ifDeclined?: string }).ifDeclined).toBe("contained");

      const decision = await approveRemediation(world.db.prisma, terminating.queues, {
        remediationId: queued.id,
        actor: "dave",
        reason: "confirmed compromise",
        planHash: waiting.plan_hash ?? "",
      });
      expect(decision.ok).toBe(true);
      expect((await waitForStatus(world.db, queued.id, ["succeeded", "failed"])).status).toBe("succeeded");
      expect(stepMap(await stepsOf(world.db, queued.id)).get("terminate")).toMatchObject({ status: "succeeded", attempts: 1 });
      const after = await viewInstance(world.aws, seeded);
      expect(["shutting-down", "terminated"]).toContain(after.state);
      // The evidence outlives the instance.
      expect(after.snapshots.map((s) => s.volumeId).sort()).toEqual([...seeded.volumeIds].sort());
    } finally {
      await terminating.stop();
    }
  });
});

describe("a rejected termination", () => {
  it("leaves the instance contained and running, on record as contained, and releasable", async () => {
    const terminating = await startLane(world, { policy: POLICY, worker: { WORKER_INSTANCE_TERMINATE: "true" } });
    try {
      const seeded = await seed(world, { targetGroup: false });
      const detail = findingFor(seeded, { severity: 8 });
      await terminating.send(detail);
      const queued = await remediationForFinding(world.db, findingIdOf(detail));
      const waiting = await waitForStatus(world.db, queued.id, SETTLED);
      expect(waiting.status).toBe("awaiting_approval");
      expect(waiting.plan).toMatchObject({ action: "continue", ifDeclined: "contained" });
      const contained = await viewInstance(world.aws, seeded);

      const decision = await rejectRemediation(world.db.prisma, { remediationId: queued.id, actor: "carol", reason: "keep it for forensics", planHash: waiting.plan_hash ?? "" });
      expect(decision).toMatchObject({ ok: true, step: "terminate" });
      expect(await remediation(world.db, queued.id)).toMatchObject({ status: "succeeded", error: null });
      expect(stepMap(await stepsOf(world.db, queued.id)).get("terminate")?.status).toBe("pending");
      expect(await viewInstance(world.aws, seeded)).toEqual(contained);
      expect(contained.state).toBe("running");

      // Contained, so it can be released: the release plan waits for its approval as usual.
      expect((await requestRelease(world.db.prisma, terminating.queues, queued.id, "erin")).ok).toBe(true);
      const release = await waitForStatus(world.db, queued.id, ["awaiting_approval", "failed"]);
      expect(release.plan).toMatchObject({ action: "release", ifDeclined: "contained" });
    } finally {
      await terminating.stop();
    }
  });
});

describe("release", () => {
  it("freezes a release plan, and once approved restores every interface's groups and leaves standby", async () => {
    const seeded = await seed(world);
    const before = await viewInstance(world.aws, seeded);
    const detail = findingFor(seeded, { severity: 9 });
    const findingId = findingIdOf(detail);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingId);
    expect((await waitForStatus(world.db, queued.id, SETTLED)).status).toBe("succeeded");
    const contained = await viewInstance(world.aws, seeded);
    expect(containmentProblems(contained, seeded, { findingId, remediationId: queued.id })).toEqual([]);

    // A first release request, rejected: the instance stays contained, and on record as contained.
    expect((await requestRelease(world.db.prisma, lane.queues, queued.id, "erin")).ok).toBe(true);
    const first = await waitForStatus(world.db, queued.id, ["awaiting_approval", "failed"]);
    expect(first.status).toBe("awaiting_approval");
    expect(await rejectRemediation(world.db.prisma, { remediationId: queued.id, actor: "carol", reason: "not yet", planHash: first.plan_hash ?? "" })).toMatchObject({ ok: true });
    expect(await remediation(world.db, queued.id)).toMatchObject({ status: "succeeded", error: null });
    expect(await viewInstance(world.aws, seeded)).toEqual(contained);

    // Asked again: a plan frozen anew (its own hash), decided on its own.
    const requested = await requestRelease(world.db.prisma, lane.queues, queued.id, "erin");
    expect(requested.ok).toBe(true);
    const waiting = await waitForStatus(world.db, queued.id, ["awaiting_approval", "failed"]);
    expect(waiting.plan_hash).not.toBe(first.plan_hash);
    expect(waiting.status).toBe("awaiting_approval");
    expect((waiting.plan as { action: string }).action).toBe("release");
    const plan = planSteps(waiting);
    expect(plan.map((s) => s.name)).toEqual(["restore-groups", "exit-standby", "reregister-targets", "tag-released"]);
    expect(plan[0]?.calls.map((c) => c.params).sort((a, b) => String(a["NetworkInterfaceId"]).localeCompare(String(b["NetworkInterfaceId"]))))
      .toEqual(seededEnis(seeded).map((e) => ({ NetworkInterfaceId: e.id, Groups: expect.arrayContaining(e.groupIds) as unknown })));
    expect(operations(plan[1])).toEqual(["ExitStandby"]);
    expect(operations(plan[2])).toEqual(["RegisterTargets"]);
    // Still contained while the release waits.
    expect(await viewInstance(world.aws, seeded)).toEqual(contained);

    const decision = await approve(waiting, waiting.plan_hash ?? "", "frank");
    expect(decision.ok).toBe(true);
    await waitUntil(
      async () => stepMap(await stepsOf(world.db, queued.id)).get("tag-released")?.status === "succeeded",
      { attempts: 300, what: "the release steps to finish" },
    );
    expect((await waitForStatus(world.db, queued.id, ["succeeded", "failed"])).status).toBe("succeeded");

    expect((await approvalsOf(world.db, queued.id)).map((a) => [a.decision, a.actor])).toEqual([
      ["rejected", "carol"],
      ["approved", "frank"],
    ]);

    const released = await viewInstance(world.aws, seeded);
    expect(released.enis).toEqual(before.enis);
    expect(released.autoScaling?.lifecycleState).toBe("InService");
    expect(released.registered).toEqual(before.registered);
    expect(released.tags[RESPONDER_TAG.state]).toBe("released");
    // The record stays: tags naming the finding and remediation, and the snapshots.
    expect(released.tags[RESPONDER_TAG.findingId]).toBe(findingId);
    expect(released.snapshots).toEqual(contained.snapshots);
  });
});
