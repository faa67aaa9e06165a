// The kill switch through the real worker service when Redis loses its copy (a Redis restarted
// without its data): Postgres holds the pause, so the worker stays paused and touches nothing.
import { pauseKey } from "@gdr/core/control/pause";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containmentProblems, deleteByPrefix, viewInstance, waitUntil } from "../support/index.js";
import {
  createEngineWorld,
  findingFor,
  findingIdOf,
  remediation,
  remediationForFinding,
  seed,
  startLane,
  stepsOf,
  waitForStatus,
  type EngineWorld,
  type LogLine,
} from "../worker/engine-harness.js";

let world: EngineWorld;

beforeAll(async () => {
  world = await createEngineWorld();
});

afterAll(async () => {
  await world.close();
});

const postponed = (jobId: string) => (l: LogLine) => l.msg === "remediation postponed" && l["why"] === "paused" && l["jobId"] === jobId;

describe("the kill switch when Redis loses its data", () => {
  it("keeps a worker paused after its Redis copy is flushed: no step runs until resume", async () => {
    const lane = await startLane(world);
    const worker = lane.worker;
    if (!worker) throw new Error("lane without worker");
    await worker.service.limits.pause.pause("oncall", "investigating a bad deploy");
    // Redis "restarted without its data": every limits key of this deployment is gone.
    expect(await deleteByPrefix(world.redis.connection, `${lane.prefix}:limits`)).toBeGreaterThan(0);
    expect(await world.redis.connection.exists(pauseKey(lane.prefix))).toBe(0);

    const seeded = await seed(world);
    const before = await viewInstance(world.aws, seeded);
    const detail = findingFor(seeded);
    await lane.send(detail);
    const r = await remediationForFinding(world.db, findingIdOf(detail));

    // Three holds: the first reads the record, the later ones the copy put back from it.
    await waitUntil(() => worker.logs.count(postponed(r.job_id)) >= 3, { attempts: 100, what: "three postponements" });
    expect(await stepsOf(world.db, r.id)).toEqual([]);
    expect((await remediation(world.db, r.id)).status).toBe("queued");
    expect(await viewInstance(world.aws, seeded)).toEqual(before);
    expect(await world.redis.connection.hget(pauseKey(lane.prefix), "paused")).toBe("1");

    await worker.service.limits.pause.resume("oncall", "deploy rolled back");
    expect((await waitForStatus(world.db, r.id, ["succeeded", "failed"])).status).toBe("succeeded");
    expect(containmentProblems(await viewInstance(world.aws, seeded), seeded, { findingId: r.finding_id, remediationId: r.id })).toEqual([]);
    await lane.stop();
  });
});
