import { describe, expect, it } from "vitest";
import { isRedisConnectionError, isTransientDbError, unavailableInfrastructure } from "./errors.js";

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

describe("infrastructure errors", () => {
  it("knows Postgres away: Prisma's can't-reach code and pg's code-less connection-loss errors", () => {
    expect(isTransientDbError(withCode("Can't reach database server", "P1001"))).toBe(true);
    expect(isTransientDbError(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(isTransientDbError(new Error("Client has encountered a connection error and is not queryable"))).toBe(true);
    expect(isTransientDbError(new Error("wrapped", { cause: new Error("Connection terminated unexpectedly") }))).toBe(true);
    expect(isTransientDbError(withCode("unique", "P2002"))).toBe(false);
    expect(isTransientDbError(new Error("Connection terminated unexpectedly, and more"))).toBe(false);
  });

  it("knows Redis away: ioredis's closed connection and retries exhausted, failover replies", () => {
    expect(isRedisConnectionError(new Error("Connection is closed."))).toBe(true);
    expect(isRedisConnectionError(Object.assign(new Error("Reached the max retries per request limit"), { name: "MaxRetriesPerRequestError" }))).toBe(true);
    expect(isRedisConnectionError(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe(true);
    expect(isRedisConnectionError(Object.assign(new Error("LOADING Redis is loading the dataset in memory"), { name: "ReplyError" }))).toBe(true);
    expect(isRedisConnectionError(Object.assign(new Error("ERR wrong number of arguments"), { name: "ReplyError" }))).toBe(false);
  });

  it("never takes an AWS SDK error for our own infrastructure, whatever its socket code", () => {
    const aws = Object.assign(withCode("connect ECONNREFUSED 10.0.0.1:443", "ECONNREFUSED"), { $metadata: { attempts: 3 } });
    expect(unavailableInfrastructure(aws)).toBeNull();
    expect(unavailableInfrastructure(withCode("Can't reach database server", "P1001"))).toBe("postgres");
    expect(unavailableInfrastructure(new Error("Connection is closed."))).toBe("redis");
    expect(unavailableInfrastructure(new Error("InvalidInstanceID.NotFound"))).toBeNull();
  });
});
