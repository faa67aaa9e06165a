import { describe, expect, it } from "vitest";
import { ConfigError } from "@gdr/core/config/parse";
import { loadIngestConfig } from "./config.js";

const base = {
  DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/gdr",
  REDIS_URL: "redis://127.0.0.1:6379",
  AWS_REGION: "us-east-1",
  SQS_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/guardduty-findings",
};

describe("loadIngestConfig", () => {
  it("has production defaults: long polling, full batches, several pollers", () => {
    const config = loadIngestConfig(base);
    expect(config.INGEST_WAIT_TIME_SECONDS).toBe(20);
    expect(config.INGEST_BATCH_SIZE).toBe(10);
    expect(config.INGEST_POLLERS).toBe(4);
    expect(config.INGEST_HTTP_HOST).toBe("127.0.0.1");
  });

  it("refuses values SQS would refuse, all at once", () => {
    let error: unknown;
    try {
      loadIngestConfig({ ...base, INGEST_BATCH_SIZE: "11", INGEST_WAIT_TIME_SECONDS: "21", SQS_QUEUE_URL: "guardduty" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const fields = (error as ConfigError).problems.map((p) => p.split(":")[0]);
    expect(fields.sort()).toEqual(["INGEST_BATCH_SIZE", "INGEST_WAIT_TIME_SECONDS", "SQS_QUEUE_URL"]);
  });
});
