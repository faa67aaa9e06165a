// SIGTERM on the real worker process. Within the deadline an active job is finished; past it, its
// AWS calls are aborted and the job is handed back, and another worker finishes it from its step
// cursor without repeating what was done.
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { DescribeSnapshotsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { eventBridgeEvent, instanceFinding } from "@gdr/samples/findings";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld, ingestEnv, sendBodies, startIngest, type RunningIngest, type World } from "../ingest/harness.js";
import { awsTestEnv, seedInstance, spawnTs, startAwsProxy, waitUntil, type AwsProxy, type TsChild } from "../support/index.js";

const ENTRY = "services/worker/src/main.ts";
const STARTED = /"msg":"worker started"/;
const ACCOUNT = "123456789012";

let world: World;
let proxy: AwsProxy;
let ingest: RunningIngest;
let ec2: EC2Client;
let clients: { ec2: EC2Client; autoscaling: AutoScalingClient; elbv2: ElasticLoadBalancingV2Client };
const children: TsChild[] = [];

function spawnWorker(overrides: Record<string, string>): TsChild {
  const env = {
    ...awsTestEnv(proxy.endpoint).env,
    DATABASE_URL: world.db.url,
    REDIS_URL: world.redis.url,
    QUEUE_PREFIX: world.redis.prefix,
    WORKER_ACCOUNT_ID: ACCOUNT,
    WORKER_HTTP_PORT: "0",
    WORKER_JOB_LOCK_MS: "2000",
    WORKER_LOCK_TTL_MS: "1000",
    WORKER_POSTPONE_MS: "200",
    // moto has no GuardDuty GetFindings: confirmation off against the emulator.
    WORKER_CONFIRM_FINDINGS: "false",
    LOG_LEVEL: "info",
    ...overrides,
  };
  const child = spawnTs(ENTRY, env);
  children.push(child);
  return child;
}

async function containFinding(): Promise<{ remediationId: string; volumes: number }> {
  const instance = await seedInstance(clients, { autoScaling: false, targetGroup: false });
  await sendBodies(world, [JSON.stringify(eventBridgeEvent(instanceFinding({ accountId: ACCOUNT, instanceId: instance.instanceId })))]);
  let remediationId = "";
  await waitUntil(
    async () => {
      const rows = await world.db.pool.query<{ id: string }>("SELECT id FROM remediations WHERE resource_key = $1", [instance.instanceId]);
      remediationId = rows.rows[0]?.id ?? "";
      return remediationId !== "";
    },
    { attempts: 200, intervalMs: 50, what: "the remediation to be created" },
  );
  return { remediationId, volumes: instance.volumeIds.length };
}

async function status(remediationId: string): Promise<string> {
  const rows = await world.db.pool.query<{ status: string }>("SELECT status::text AS status FROM remediations WHERE id = $1", [remediationId]);
  return rows.rows[0]?.status ?? "missing";
}

async function snapshotsOf(remediationId: string): Promise<number> {
  const out = await ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: "tag:guardduty-responder:remediation-id", Values: [remediationId] }] }));
  return (out.Snapshots ?? []).length;
}

beforeAll(async () => {
  world = await createWorld();
  proxy = await startAwsProxy(world.moto.endpoint);
  const aws = awsTestEnv(world.moto.endpoint);
  ec2 = new EC2Client(aws);
  clients = { ec2, autoscaling: new AutoScalingClient(aws), elbv2: new ElasticLoadBalancingV2Client(aws) };
  ingest = await startIngest(ingestEnv(world));
});

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await Promise.all(children.map((c) => c.exited));
  await ingest.stop();
  await proxy.close();
  await world.close();
});

describe("worker SIGTERM", () => {
  it("finishes an active job within the deadline and exits 0", async () => {
    const worker = spawnWorker({ SHUTDOWN_TIMEOUT_MS: "20000" });
    await worker.waitForLine(STARTED, 30_000);
    const hold = proxy.hold("CreateSnapshot");
    const { remediationId, volumes } = await containFinding();
    await hold.arrived;

    worker.kill("SIGTERM");
    await worker.waitForLine(/"msg":"shutting down"/);
    hold.release();

    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(worker.output()).toMatch(/"msg":"worker stopped"/);
    expect(await status(remediationId)).toBe("succeeded");
    expect(await snapshotsOf(remediationId)).toBe(volumes);
  });

  it("past the deadline hands the job back; another worker finishes it without repeating steps", async () => {
    const worker = spawnWorker({ SHUTDOWN_TIMEOUT_MS: "1000" });
    await worker.waitForLine(STARTED, 30_000);
    const hold = proxy.hold("CreateSnapshot");
    const { remediationId, volumes } = await containFinding();
    await hold.arrived;

    worker.kill("SIGTERM");
    expect((await worker.exited).signal).toBeNull();
    expect(worker.output()).toMatch(/"msg":"active jobs still running at the deadline/);
    // The held call never reached moto: its client went away with the aborted request.
    hold.release();
    expect(await snapshotsOf(remediationId)).toBe(0);
    const isolateBefore = await world.db.pool.query<{ attempts: number; finished_at: Date }>(
      "SELECT attempts, finished_at FROM remediation_steps WHERE remediation_id = $1 AND name = 'isolate'",
      [remediationId],
    );

    const second = spawnWorker({ SHUTDOWN_TIMEOUT_MS: "20000" });
    await second.waitForLine(STARTED, 30_000);
    await waitUntil(async () => (await status(remediationId)) === "succeeded", { attempts: 300, intervalMs: 100, what: "the handed-back job to finish" });

    expect(await snapshotsOf(remediationId)).toBe(volumes);
    // Steps finished before the hand-back were not run again.
    const isolateAfter = await world.db.pool.query<{ attempts: number; finished_at: Date }>(
      "SELECT attempts, finished_at FROM remediation_steps WHERE remediation_id = $1 AND name = 'isolate'",
      [remediationId],
    );
    expect(isolateAfter.rows[0]).toEqual(isolateBefore.rows[0]);
    second.kill("SIGTERM");
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });
});
