import { eventBridgeEvent, instanceFinding } from "@gdr/core/findings/fixtures";
import { expect, it } from "vitest";
import { startTcpProxy, waitUntil } from "../support/index.js";
import { createWorld, ingestEnv, receiptRows, sendBodies, startIngest, waitForEmptyQueue } from "./harness.js";

it("pool exhaustion", async () => {
  const world = await createWorld();
  const target = new URL(world.db.url);
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const ingest = await startIngest(ingestEnv(world, { DATABASE_URL: proxy.urlThrough(world.db.url), INGEST_POLLERS: "1", INGEST_OUTBOX_INTERVAL_MS: "600000" }));
  for (let cycle = 0; cycle < 5; cycle++) {
    const blocker = await world.db.pool.connect();
    await blocker.query("BEGIN"); await blocker.query("LOCK TABLE findings IN ACCESS EXCLUSIVE MODE");
    await sendBodies(world, [JSON.stringify(eventBridgeEvent(instanceFinding()))]);
    await waitUntil(async () => ((await world.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'", [world.db.name])).rows[0]?.n ?? 0) >= 1, { attempts: 200 });
    proxy.cut();
    await blocker.query("ROLLBACK"); blocker.release();
    proxy.restore();
    await waitForEmptyQueue(world, "drain", 300);
    console.log("cycle", cycle, "receipts", (await receiptRows(world.db)).length, "failures", await ingest.metric("gdr_ingest_batch_failures_total"));
  }
  await sendBodies(world, [JSON.stringify(eventBridgeEvent(instanceFinding()))]);
  const t = Date.now();
  try { await waitForEmptyQueue(world, "drain after 5 leaks", 150); console.log("processed after", Date.now() - t); }
  catch (e) { console.log("NOT processed in 30s", String(e)); }
  console.log("receipts", (await receiptRows(world.db)).length, "failures", await ingest.metric("gdr_ingest_batch_failures_total"));
  await proxy.close(); await world.close();
  expect(1).toBe(1);
}, 200_000);
