import { describe, expect, it } from "vitest";
import { pgConfigFromUrl } from "./pg-config.js";

describe("pgConfigFromUrl", () => {
  it("splits a URL into fields, decoding escapes", () => {
    expect(pgConfigFromUrl("postgresql://gd%40r:p%2Fw@db.internal:6543/audit")).toMatchObject({
      host: "db.internal",
      port: 6543,
      user: "gd@r",
      password: "p/w",
      database: "audit",
    });
  });

  it("defaults what a short URL leaves out", () => {
    expect(pgConfigFromUrl("postgres://127.0.0.1/test")).toMatchObject({ host: "127.0.0.1", port: 5432, user: "postgres", database: "test" });
  });

  it("turns ?schema= into the connection's search_path", () => {
    expect(pgConfigFromUrl("postgresql://u@h/db?schema=t_1").options).toBe('-c search_path="t_1"');
  });

  it("refuses other schemes", () => {
    expect(() => pgConfigFromUrl("mysql://u@h/db")).toThrow(/postgres/);
  });
});
