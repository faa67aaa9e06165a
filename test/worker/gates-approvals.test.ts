// Issue 8 items 5 and 7 (worker half), through the real worker against moto:
// - contain-only approvals: with termination enabled, an approval-mode plan stops before the first
//   destructive step (containment and evidence only); once containment ran, termination freezes a
//   plan of its own, declined it leaves the instance contained; and policy `onExpiry: contain`
//   really contains (a plan that bundled termination was never containable by the expiry);
// - a self-granted exemption: an instance that tagged itself exempt in auto mode is not skipped:
//   its containment waits for a person, who is told why, and nothing changes until then.
import { approveRemediation, rejectRemediation } from "@gdr/core/approvals/decide";
import { expireApprovals } from "@gdr/core/approvals/expire";
import { CreateTagsCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containmentProblems, viewInstance, waitUntil } from "../support/index.js";
import { startReceiver, type Receiver } from "../notify/receiver.js";
import {
  CONTAINMENT_STEPS,
  auditOf,
  createEngineWorld,
  findingFor,
  findingIdOf,
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
import { createCallLog, type CallLog } from "./gates-support.js";

const POLICY = [
  "version: 1",
  'accounts: { allow: ["*"] }',
  "rules:",
  "  - { name: medium-approval, match: { severity: medium }, mode: approval }",
  "  - { name: high-auto, match: { severity: [high, critical] }, mode: auto }",
  "",
].join("\n");
const SETTLED = ["succeeded", "failed", "skipped", "escalated", "awaiting_approval", "cancelled", "rejected", "expired"];

let world: EngineWorld;
let lane: Lane;
let slack: Receiver;
const log: CallLog = createCallLog();

beforeAll(async () => {
  world = await createEngineWorld();
  slack = await startReceiver();
  lane = await startLane(world, {
    policy: POLICY,
    worker: { WORKER_INSTANCE_TERMINATE: "true", NOTIFY_SLACK_WEBHOOK_URL: `${slack.url}/services/T0/B0/approvals` },
    awsMiddleware: (clients) => {
      log.install(clients);
    },
  });
});

afterAll(async () => {
  await world.close();
  await slack.close();
});

function planStepNames(row: RemediationRow): string[] {
  return (row.plan as { steps: { name: string }[] }).steps.map((s) => s.name);
}

/** Waits until the remediation waits on a plan other than `previousHash` (or settles otherwise). */
async function nextPlan(id: string, previousHash: string | null): Promise<RemediationRow> {
  let row: RemediationRow | undefined;
  await waitUntil(
    async () => {
      row = await remediation(world.db, id);
      return SETTLED.includes(row.status) && !(row.status === "awaiting_approval" && row.plan_hash === previousHash);
    },
    { attempts: 300, what: `remediation ${id} to move past plan ${previousHash ?? "-"}` },
  );
  if (!row) throw new Error("unreachable");
  return row;
}


describe("contain-only approvals (termination enabled)", () => {
  it("asks to contain without terminating, contains on approval, then asks about termination on its own; declined, the instance stays contained", async () => {
    const seeded = await seed(world, { targetGroup: false });
    const detail = findingFor(seeded, { severity: 5 });
    const findingId = findingIdOf(detail);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingId);
    const first = await waitForStatus(world.db, queued.id, SETTLED);
    expect(first.status).toBe("awaiting_approval");
    expect(planStepNames(first)).toEqual(CONTAINMENT_STEPS.slice(1));
    expect(first.plan).toMatchObject({ action: "continue", ifDeclined: "nothing_done" });

    expect((await approveRemediation(world.db.prisma, lane.queues, { remediationId: queued.id, actor: "token:alice", reason: "contain it", planHash: first.plan_hash ?? "" })).ok).toBe(true);
    const second = await nextPlan(queued.id, first.plan_hash);
    expect(second.status).toBe("awaiting_approval");
    expect(planStepNames(second)).toEqual(["terminate"]);
    expect(second.plan).toMatchObject({ action: "continue", ifDeclined: "contained" });
    // moto shows the containment; the instance is still running.
    const contained = await viewInstance(world.aws, seeded);
    expect(containmentProblems(contained, seeded, { findingId, remediationId: queued.id })).toEqual([]);
    expect(contained.state).toBe("running");
    expect(stepMap(await stepsOf(world.db, queued.id)).get("terminate")?.status).toBe("awaiting_approval");

    expect((await rejectRemediation(world.db.prisma, { remediationId: queued.id, actor: "token:bob", reason: "keep it for forensics", planHash: second.plan_hash ?? "" })).ok).toBe(true);
    expect(await remediation(world.db, queued.id)).toMatchObject({ status: "succeeded", error: null });
    expect(await viewInstance(world.aws, seeded)).toEqual(contained);
  });

  it("contains when the approval expires under onExpiry: contain, and never terminates without a person", async () => {
    const seeded = await seed(world, { targetGroup: false });
    const detail = findingFor(seeded, { severity: 5 });
    const findingId = findingIdOf(detail);
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingId);
    const first = await waitForStatus(world.db, queued.id, SETTLED);
    expect(first.status).toBe("awaiting_approval");

    // The sweep, a day later than the plan was frozen.
    const later = new Date(Date.now() + 25 * 3_600_000);
    const swept = await expireApprovals(world.db.prisma, lane.queues, { now: later, expiryMs: 24 * 3_600_000, expiry: "24h", onExpiry: "contain" });
    expect(swept.contained).toEqual([queued.id]);

    const second = await nextPlan(queued.id, first.plan_hash);
    expect(second.status).toBe("awaiting_approval");
    expect(planStepNames(second)).toEqual(["terminate"]);
    const contained = await viewInstance(world.aws, seeded);
    expect(containmentProblems(contained, seeded, { findingId, remediationId: queued.id })).toEqual([]);

    // The termination plan expires too: the expiry never authorises it; the instance stays contained.
    const afterThat = new Date(later.getTime() + 25 * 3_600_000);
    const again = await expireApprovals(world.db.prisma, lane.queues, { now: afterThat, expiryMs: 24 * 3_600_000, expiry: "24h", onExpiry: "contain" });
    expect(again).toEqual({ expired: [queued.id], contained: [], setAside: [] });
    expect(await remediation(world.db, queued.id)).toMatchObject({ status: "succeeded" });
    const after = await viewInstance(world.aws, seeded);
    expect(after.state).toBe("running");
    expect(after).toEqual(contained);
  });
});

describe("an instance that tagged itself exempt", () => {
  it("in auto mode waits for a person (told why) instead of being skipped, and nothing changes until then", async () => {
    const seeded = await seed(world, { targetGroup: false });
    // The workload tags itself; GuardDuty's finding does not carry the tag (ingest accepts it).
    await world.aws.ec2.send(new CreateTagsCommand({ Resources: [seeded.instanceId], Tags: [{ Key: "guardduty-remediation", Value: "exempt" }] }));
    const before = await viewInstance(world.aws, seeded);
    const detail = findingFor(seeded, { severity: 8 });
    const findingId = findingIdOf(detail);
    const seenCalls = log.calls.length;
    await lane.send(detail);
    const queued = await remediationForFinding(world.db, findingId);
    expect(queued.mode).toBe("auto");

    const held = await waitForStatus(world.db, queued.id, SETTLED);
    expect(held.status).toBe("awaiting_approval");
    expect(held.plan).toMatchObject({ ifDeclined: "nothing_done", reason: expect.stringMatching(/exemption tag guardduty-remediation=exempt/) as unknown });
    expect(planStepNames(held)).toEqual(CONTAINMENT_STEPS.slice(1));
    expect(await viewInstance(world.aws, seeded)).toEqual(before);
    expect(log.calls.slice(seenCalls).filter((c) => !/^(ec2|autoscaling|elbv2):(Describe|Get|List)/.test(c))).toEqual([]);
    expect((await auditOf(world.db, queued.id)).map((a) => a.action)).toContain("remediation.held");
    expect(await slack.messageAbout(seeded.instanceId, /^Remediation awaiting approval/)).toContain("exemption tag guardduty-remediation=exempt");

    // A person decides to contain it after all: it is contained.
    expect((await approveRemediation(world.db.prisma, lane.queues, { remediationId: queued.id, actor: "token:erin", reason: "nobody exempted this", planHash: held.plan_hash ?? "" })).ok).toBe(true);
    const next = await nextPlan(queued.id, held.plan_hash);
    expect(planStepNames(next)).toEqual(["terminate"]);
    // The termination plan is not presented as the exemption hold: it waits on its own account.
    expect(next.plan).not.toHaveProperty("reason");
    expect(containmentProblems(await viewInstance(world.aws, seeded), seeded, { findingId, remediationId: queued.id })).toEqual([]);
  });
});
