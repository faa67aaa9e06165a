// POST /v1/findings parses with ingest's parser, so a body holding one key twice (a parser
// differential: JSON.parse keeps the last value, other readers the first) is refused there too:
// invalid_json naming the key, its receipt recorded, and no finding, remediation or job created.
import { eventBridgeEvent, instanceFinding } from "@gdr/samples/findings";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiWorld, type ApiWorld } from "./world.js";

let world: ApiWorld;

beforeAll(async () => {
  world = await createApiWorld({ name: "api-duplicate-keys-test" });
});

afterAll(async () => {
  await world.close();
});

const count = async (table: string) => (await world.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n ?? -1;

describe("POST /v1/findings with a duplicated JSON key", () => {
  it("is rejected as invalid_json naming the key, recorded, and creates no finding or remediation", async () => {
    const valid = JSON.stringify(eventBridgeEvent(instanceFinding({ instanceId: "i-0a1b2c3d4e5f60718", severity: 8 })));
    const body = valid.replace('"instanceId":"i-0a1b2c3d4e5f60718"', '"instanceId":"i-0fedcba9876543210","instance\\u0049d":"i-0a1b2c3d4e5f60718"');
    expect(body).not.toBe(valid);

    const res = await world.app.inject({
      method: "POST",
      url: "/v1/findings",
      headers: { authorization: `Bearer ${world.tokens.admin}`, "content-type": "application/json" },
      payload: body,
    });
    // Every rejected body is answered 422 with its receipt (the route's contract for rejections).
    expect(res.statusCode, res.body).toBe(422);
    const receipt = res.json<{ messageId: string; outcome: string; reason: string; detail: string; findingId: string | null }>();
    expect(receipt).toMatchObject({ outcome: "rejected", reason: "invalid_json", findingId: null });
    expect(receipt.detail).toMatch(/\$\.detail\.resource\.instanceDetails has the key "instanceId" more than once/);

    const stored = await world.db.pool.query<{ reason: string }>("SELECT reason FROM ingest_receipts WHERE sqs_message_id = $1", [receipt.messageId]);
    expect(stored.rows).toEqual([{ reason: "invalid_json" }]);
    expect({ findings: await count("findings"), remediations: await count("remediations"), outbox: await count("outbox") }).toEqual({
      findings: 0,
      remediations: 0,
      outbox: 0,
    });
  });
});
