// A remediation a playbook starts (ctx.startRemediation: an ECS task on bridge networking starts
// an Instance remediation of its host) is recorded like ingest's: its row linked to its parent,
// its outbox row and its audit events in one transaction, deduplicated on (finding, playbook,
// resource), so a step that runs again, or a second task of the finding on the same host, starts
// it once.
import { recordDerivedRemediation } from "@gdr/core/intake/derived";
import { jobIdFor } from "@gdr/core/queues/job-ids";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedPendingOutbox } from "../support/seed/outbox.js";
import { createWorld, type World } from "../support/world/index.js";

let world: World;

beforeAll(async () => {
  world = await createWorld({ moto: false });
});

afterAll(async () => {
  await world.close();
});

describe("a remediation a playbook starts", () => {
  it("is its own queued row, linked to its parent, with an outbox row and audit events, once", async () => {
    const seeded = await seedPendingOutbox(world.db, { ageMinutes: 0 });
    const parent = { id: seeded.remediationId, findingId: seeded.findingId, accountId: "111122223333", region: "us-east-1" };
    const request = { playbook: "instance" as const, resourceKey: "i-0123456789abcdef0", mode: "approval" as const, reason: "the task shares its host's network" };

    const first = await recordDerivedRemediation(world.db.prisma, parent, request);
    expect(first.created).toBe(true);
    const again = await recordDerivedRemediation(world.db.prisma, parent, request);
    expect(again).toEqual({ remediationId: first.remediationId, created: false });

    const { rows } = await world.db.pool.query<{ parent_id: string; playbook: string; resource_key: string; mode: string; status: string; rule_name: string; job_id: string }>(
      "SELECT parent_id::text, playbook, resource_key, mode::text, status::text, rule_name, job_id FROM remediations WHERE id = $1",
      [first.remediationId],
    );
    expect(rows).toEqual([
      {
        parent_id: parent.id,
        playbook: "instance",
        resource_key: request.resourceKey,
        mode: "approval",
        status: "queued",
        rule_name: "workload-high-critical",
        job_id: jobIdFor("instance", seeded.findingId, request.resourceKey),
      },
    ]);
    const outbox = await world.db.pool.query<{ queue: string; payload: Record<string, string> }>("SELECT queue, payload FROM outbox WHERE remediation_id = $1", [first.remediationId]);
    expect(outbox.rows).toEqual([
      {
        queue: "instance",
        payload: { remediationId: first.remediationId, findingId: seeded.findingId, playbook: "instance", mode: "approval", accountId: parent.accountId, region: parent.region, resourceKey: request.resourceKey, action: "contain" },
      },
    ]);
    const audit = await world.db.pool.query<{ remediation_id: string; action: string }>(
      "SELECT remediation_id::text, action FROM audit_events WHERE remediation_id IN ($1, $2) AND action IN ('remediation.queued', 'remediation.derived_started') ORDER BY id",
      [parent.id, first.remediationId],
    );
    expect(audit.rows).toEqual([
      { remediation_id: first.remediationId, action: "remediation.queued" },
      { remediation_id: parent.id, action: "remediation.derived_started" },
    ]);
  });

  it("refuses a parent that does not exist, writing nothing", async () => {
    const ghost = { id: "00000000-0000-4000-8000-00000000dead", findingId: "f".repeat(32), accountId: "111122223333", region: "us-east-1" };
    await expect(recordDerivedRemediation(world.db.prisma, ghost, { playbook: "instance", resourceKey: "i-0fedcba9876543210", mode: "approval", reason: "x" })).rejects.toThrow(/does not exist/);
    const { rowCount } = await world.db.pool.query("SELECT 1 FROM remediations WHERE resource_key = 'i-0fedcba9876543210'");
    expect(rowCount).toBe(0);
  });
});
