import { eventBridgeEvent, instanceFinding } from "@gdr/core/findings/fixtures";
import { expect, it } from "vitest";
import { createWorld, ingestEnv, receiptRows, sendBodies, startIngest, waitForEmptyQueue } from "./harness.js";

it("backlog at start", async () => {
  const world = await createWorld();
  await sendBodies(world, Array.from({ length: 10 }, () => JSON.stringify(eventBridgeEvent(instanceFinding()))));
  const ingest = await startIngest(ingestEnv(world));
  await waitForEmptyQueue(world, "drain", 300);
  console.log("failures", await ingest.metric("gdr_ingest_batch_failures_total"), (await receiptRows(world.db)).map(r => r.deliveries));
  console.log("accepted metric", await ingest.metric("gdr_ingest_messages_total"));
  await ingest.stop(); await world.close();
  expect(1).toBe(1);
}, 60_000);
