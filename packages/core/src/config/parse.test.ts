import { describe, expect, it } from "vitest";
import { z } from "zod";
import { commonFields } from "./fields.js";
import { ConfigError, parseConfig } from "./parse.js";

const schema = z.object(commonFields);
const valid = { DATABASE_URL: "postgresql://u:p@db:5432/gdr", REDIS_URL: "redis://cache:6379", AWS_REGION: "eu-west-1" };

describe("parseConfig", () => {
  it("applies defaults and freezes the result", () => {
    const config = parseConfig(schema, valid);
    expect(config.QUEUE_PREFIX).toBe("gdr");
    expect(config.LOG_LEVEL).toBe("info");
    expect(config.POLICY_FILE).toBe("policy/default.yaml");
    expect(config.SHUTDOWN_TIMEOUT_MS).toBe(30_000);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reports every problem at once, saying which variables are unset", () => {
    let error: unknown;
    try {
      parseConfig(schema, { REDIS_URL: "http://cache", LOG_LEVEL: "loud", SHUTDOWN_TIMEOUT_MS: "5.5" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(5);
    expect(problems.find((p) => p.startsWith("DATABASE_URL"))).toMatch(/not set/);
    expect(problems.find((p) => p.startsWith("AWS_REGION"))).toMatch(/not set/);
    expect(problems.find((p) => p.startsWith("REDIS_URL"))).toMatch(/redis:\/\//);
    expect(problems.find((p) => p.startsWith("REDIS_URL"))).not.toMatch(/not set/);
    expect(problems.find((p) => p.startsWith("LOG_LEVEL"))).toBeDefined();
    expect(problems.find((p) => p.startsWith("SHUTDOWN_TIMEOUT_MS"))).toMatch(/whole number/);
    expect((error as ConfigError).message).toContain("5 problems");
  });

  it("treats empty strings as unset so defaults apply", () => {
    expect(parseConfig(schema, { ...valid, QUEUE_PREFIX: "" }).QUEUE_PREFIX).toBe("gdr");
  });

  it("refuses a queue prefix with characters Redis keys should not carry", () => {
    expect(() => parseConfig(schema, { ...valid, QUEUE_PREFIX: "gdr prod" })).toThrow(ConfigError);
    expect(parseConfig(schema, { ...valid, QUEUE_PREFIX: "{gdr}" }).QUEUE_PREFIX).toBe("{gdr}");
  });

  it("accepts an emulator endpoint only as an http(s) URL", () => {
    expect(parseConfig(schema, { ...valid, AWS_ENDPOINT_URL: "http://127.0.0.1:5000" }).AWS_ENDPOINT_URL).toBe("http://127.0.0.1:5000");
    expect(() => parseConfig(schema, { ...valid, AWS_ENDPOINT_URL: "127.0.0.1:5000" })).toThrow(/AWS_ENDPOINT_URL/);
  });
});
