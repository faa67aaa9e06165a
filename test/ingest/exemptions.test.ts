// A compromised workload can tag itself guardduty-remediation=exempt; it cannot edit the policy.
// At ingest the tag on a medium-or-higher finding only turns containment into an approval request
// and people are told; a low finding's tag is honoured. The policy's exempt.resources (by id or
// ARN) ignores the finding, recorded, and tells people when it is medium or higher. Each finding's
// exemption is told once, not again with every GuardDuty update.
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { instanceFinding, type JsonObject } from "@gdr/samples/findings";
import { jobIdFor } from "@gdr/core/queues/catalog";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allJobs,
  createWorld,
  deliver as deliverTo,
  ingestEnv,
  recordingNotifier,
  remediationRows,
  startIngest,
  stringAt,
  type RunningIngest,
  type World,
} from "./harness.js";

const ACCOUNT = "111122223333";
const EXEMPT_BY_ID = "i-0aaaaaaaaaaaaaaa1";
const EXEMPT_BY_ARN = "i-0aaaaaaaaaaaaaaa2";
const TAG = [{ key: "guardduty-remediation", value: "exempt" }];

let world: World;
let ingest: RunningIngest;
let policyDir: string;
const notifier = recordingNotifier();

beforeAll(async () => {
  world = await createWorld();
  // The shipped policy, with two resources the operator exempted: one by id, one by ARN.
  policyDir = mkdtempSync(join(tmpdir(), "gdr-exempt-"));
  const shipped = readFileSync("policy/default.yaml", "utf8");
  const entries = `resources: ["${EXEMPT_BY_ID}", "arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${EXEMPT_BY_ARN}"]`;
  const policy = shipped.replace("  resources: []", `  ${entries}`);
  expect(policy).not.toBe(shipped);
  const policyFile = join(policyDir, "policy.yaml");
  writeFileSync(policyFile, policy);
  ingest = await startIngest(ingestEnv(world, { POLICY_FILE: policyFile }), { notifier });
});

afterAll(async () => {
  await ingest.stop();
  await world.close();
  rmSync(policyDir, { recursive: true, force: true });
});

/** Sends one finding and waits until ingest has recorded it; returns its receipt. */
function deliver(detail: JsonObject) {
  return deliverTo(world, detail);
}

const eventsFor = (findingId: string) => notifier.events.filter((e) => e.findingId === findingId);
const remediationsFor = async (findingId: string) => (await remediationRows(world.db)).filter((r) => r.finding_id === findingId);

describe("the exempt tag on the finding's resource", () => {
  it("turns a high finding's automatic containment into an approval request, queued, and tells people", async () => {
    const detail = instanceFinding({ accountId: ACCOUNT, severity: 8, tags: TAG });
    const id = stringAt(detail, "id");
    const receipt = await deliver(detail);
    expect(receipt).toMatchObject({ outcome: "accepted", reason: "new_finding" });
    expect(receipt.detail).toMatch(/mode approval, rule workload-high-critical; the resource is tagged guardduty-remediation=exempt/);

    const [remediation, ...more] = await remediationsFor(id);
    expect(more).toEqual([]);
    expect(remediation).toMatchObject({ mode: "approval", status: "queued" });
    expect((await allJobs(world)).filter((j) => j.data.findingId === id).map((j) => [j.id, j.data.mode])).toEqual([
      [jobIdFor("instance", id, stringAt(detail, "resource", "instanceDetails", "instanceId")), "approval"],
    ]);
    expect(eventsFor(id)).toEqual([
      expect.objectContaining({ kind: "exempt", remediationId: remediation?.id, mode: "approval", detail: expect.stringMatching(/downgraded to an approval request/) as unknown }),
    ]);
  });

  it("asks for approval on a medium finding and tells people, and does not tell them again for its update", async () => {
    // One seed: both versions name the same finding id and instance.
    const seed = randomUUID();
    const detail = instanceFinding({ seed, accountId: ACCOUNT, severity: 5, tags: TAG, count: 1, updatedAt: "2025-03-01T10:00:00.000Z" });
    const id = stringAt(detail, "id");
    expect(await deliver(detail)).toMatchObject({ outcome: "accepted", reason: "new_finding" });
    const update = instanceFinding({ seed, accountId: ACCOUNT, severity: 5, tags: TAG, count: 2, updatedAt: "2025-03-01T11:00:00.000Z" });
    expect(await deliver(update)).toMatchObject({ outcome: "accepted", reason: "finding_updated" });

    expect((await remediationsFor(id)).map((r) => [r.mode, r.status])).toEqual([["approval", "queued"]]);
    expect(eventsFor(id).map((e) => e.kind)).toEqual(["exempt"]);
    const { rows } = await world.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_events WHERE finding_id = $1 AND action = 'finding.exempt'", [id]);
    expect(rows[0]?.n).toBe(1);
  });

  it("is honoured for a low finding: ignored as exempt_tag, no remediation, nobody told", async () => {
    const detail = instanceFinding({ accountId: ACCOUNT, severity: 2, tags: TAG });
    const id = stringAt(detail, "id");
    expect(await deliver(detail)).toMatchObject({ outcome: "ignored", reason: "exempt_tag" });
    expect(await remediationsFor(id)).toEqual([]);
    expect(eventsFor(id)).toEqual([]);
  });
});

describe("exempt.resources in the policy", () => {
  it("ignores a high finding on an instance exempted by id as exempt_resource, and tells people", async () => {
    const detail = instanceFinding({ accountId: ACCOUNT, severity: 8, instanceId: EXEMPT_BY_ID });
    const id = stringAt(detail, "id");
    const receipt = await deliver(detail);
    expect(receipt).toMatchObject({ outcome: "ignored", reason: "exempt_resource", detail: `the policy exempts ${EXEMPT_BY_ID} (exempt.resources)` });
    expect(await remediationsFor(id)).toEqual([]);
    expect(eventsFor(id)).toEqual([
      expect.objectContaining({ kind: "exempt", remediationId: null, findingId: id, resourceKey: EXEMPT_BY_ID, accountId: ACCOUNT }),
    ]);
  });

  it("ignores a medium finding on an instance exempted by ARN as exempt_resource, and tells people", async () => {
    const detail = instanceFinding({ accountId: ACCOUNT, severity: 5, instanceId: EXEMPT_BY_ARN });
    const id = stringAt(detail, "id");
    expect(await deliver(detail)).toMatchObject({ outcome: "ignored", reason: "exempt_resource" });
    expect(await remediationsFor(id)).toEqual([]);
    expect(eventsFor(id).map((e) => [e.kind, e.resourceKey])).toEqual([["exempt", EXEMPT_BY_ARN]]);
  });

  it("ignores a low finding on an exempted instance without telling anyone", async () => {
    const detail = instanceFinding({ accountId: ACCOUNT, severity: 3, instanceId: EXEMPT_BY_ID });
    const id = stringAt(detail, "id");
    expect(await deliver(detail)).toMatchObject({ outcome: "ignored", reason: "exempt_resource" });
    expect(eventsFor(id)).toEqual([]);
  });
});
